/** Progress lines for provisioning and start-up, on stderr so stdout stays clean. */
export function step(message: string): void {
  process.stderr.write(`\u001b[1m==> ${message}\u001b[0m\n`);
}

/** A failure the user can fix: names what is missing and how to get it. */
export class MissingPrerequisite extends Error {
  constructor(what: string, hint: string) {
    super(`${what} is missing: ${hint}`);
    this.name = 'MissingPrerequisite';
  }
}
