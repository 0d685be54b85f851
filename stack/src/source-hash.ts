import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The sha256 of a Maven project's pom and every file under its src/, with their paths (a
 * rename counts as a change): what names a build without building it.
 */
export function mavenSourcesHash(project: string): string {
  const hash = crypto.createHash('sha256');
  const files = [
    'pom.xml',
    ...listFiles(path.join(project, 'src'))
      .map((file) => path.relative(project, file))
      .sort(),
  ];
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(project, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full) : [full];
  });
}
