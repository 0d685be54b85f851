export type Stream = 'stdin' | 'stdout' | 'stderr';

export interface CommandArgument {
  position: number | null;
  prefix: string | null;
  /** What this run passed, or else the plan's default. */
  value: string | null;
  mappedTo: Stream | null;
}

const redirection: Record<Stream, string> = { stdin: '< ', stdout: '> ', stderr: '2> ' };

/**
 * Rebuilds a run's command line the way renku's knowledge graph shows it: the
 * command, then every argument in position order (unpositioned ones last) with
 * its prefix, and stream redirections for arguments mapped to stdin, stdout or
 * stderr. Renku stores a prefix with its separator (`--out ` or `--out=`), so
 * prefix and value are joined as they are.
 */
export function buildCommandLine(command: string, args: readonly CommandArgument[]): string {
  const ordered = [...args].sort(
    (a, b) => (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER),
  );
  const parts = [command.trim()];
  for (const arg of ordered) {
    const value = arg.value ?? '';
    if (arg.mappedTo) parts.push(`${redirection[arg.mappedTo]}${value}`);
    else if (arg.prefix || value) parts.push(`${arg.prefix ?? ''}${value}`);
  }
  return parts.filter((part) => part !== '').join(' ');
}

/**
 * Renku 0.x kept no command in its plans, only in the activity's label
 * (`renku run python src/clean_data.py ...`); the command line is what follows
 * `renku run`.
 */
export function commandLineFromLabel(label: string): string {
  return label.replace(/^\s*renku\s+run\s+/, '').trim();
}

export function asStream(raw: string | null): Stream | null {
  if (raw === null) return null;
  const name = raw.toLowerCase().replace(/^.*[#/]/, '');
  return name === 'stdin' || name === 'stdout' || name === 'stderr' ? name : null;
}
