/** A clone or export that failed; its text is git's or renku's and is meant to be shown. */
export class ExportError extends Error {}

/** An error that trying again cannot fix: the event fails at once. */
export class PermanentError extends ExportError {}
