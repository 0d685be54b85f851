// docs/benchmarks.md holds the results of several benchmarks; each owns the
// sections under its own `## ` headings and rewrites only those.
import fs from 'node:fs';

/** Headings of sections written by benchmarks other than run.mjs, which keeps them. */
export const otherSections = [
  '## Project page on the real stack',
  '## Lineage at scale',
  '## Soak',
];

/** Replaces the section under `heading` (up to the next `## `), or appends it. */
export function writeSection(file, heading, body) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = current.indexOf(`\n${heading}\n`);
  if (start < 0) {
    fs.writeFileSync(file, `${current.trimEnd()}\n\n${section}`);
    return;
  }
  const next = current.indexOf('\n## ', start + heading.length + 2);
  const rest = next < 0 ? '' : `\n${current.slice(next + 1)}`;
  fs.writeFileSync(file, `${current.slice(0, start + 1)}${section}${rest}`);
}

/** The part of the file from the first section another benchmark owns, for run.mjs to keep. */
export function keptSections(file) {
  if (!fs.existsSync(file)) return '';
  const current = fs.readFileSync(file, 'utf8');
  const starts = otherSections
    .map((heading) => current.indexOf(`\n${heading}\n`))
    .filter((at) => at >= 0);
  return starts.length === 0 ? '' : `\n${current.slice(Math.min(...starts) + 1)}`;
}
