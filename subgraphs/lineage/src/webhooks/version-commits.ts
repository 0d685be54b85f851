import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';

import type { Provenance } from '../ingest/provenance';
import { ExportError } from './export-errors';

/**
 * Renku 2.x exports name no commits: a file version is `/entities/<git blob or tree id>/<path>`
 * and a run `/activities/<uuid>`. The repository they came from knows both:
 * - a version was written by the commit that set its path to that blob (or tree, for a
 *   folder); where the same content was written more than once, the latest such commit, the
 *   one the path's latest producer made;
 * - renku stores each activity in `.renku/metadata/<o[0:2]>/<o[2:4]>/<o>`, where `o` is the
 *   SHA3-256 of its id (`/activities/<uuid>`, renku's `Database.hash_id`), in the commit of
 *   the run itself. A run whose file is not found falls back to the commit of its outputs.
 * All of it comes from one `git log --raw` walk back from the exported commit. Merges show no
 * changes of their own there, so a version first written while resolving a merge conflict keeps
 * no commit. TODO(#6): diff merges against their first parent for those.
 */
export async function fillVersionCommits(
  provenance: Provenance,
  repository: string,
  commit: string,
  options: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<void> {
  const versions = new Set<string>();
  for (const file of provenance.files) {
    if (file.commit === null && file.checksum) versions.add(versionKey(file.path, file.checksum));
  }
  const activities = new Map<string, string>();
  for (const run of provenance.runs) {
    const id = run.commit === null ? renkuActivityId(run.id) : undefined;
    if (id) activities.set(metadataPath(id), run.id);
  }
  if (versions.size === 0 && activities.size === 0) return;

  const found = await walkHistory(repository, commit, versions, activities, options);
  for (const file of provenance.files) {
    if (file.commit === null && file.checksum) {
      file.commit = found.versions.get(versionKey(file.path, file.checksum)) ?? null;
    }
  }
  const byFile = new Map(provenance.files.map((file) => [file.id, file.commit]));
  const outputCommits = new Map<string, string>();
  for (const generation of provenance.generations) {
    const written = byFile.get(generation.fileId);
    if (written) outputCommits.set(generation.runId, written);
  }
  for (const run of provenance.runs) {
    if (run.commit === null)
      run.commit = found.runs.get(run.id) ?? outputCommits.get(run.id) ?? null;
  }
}

/** renku's own id of an activity (`/activities/<uuid>`), whatever host the export put first. */
function renkuActivityId(id: string): string | undefined {
  return /(\/activities\/[^/#?]+)$/.exec(id)?.[1];
}

function metadataPath(activityId: string): string {
  const oid = createHash('sha3-256').update(activityId, 'utf8').digest('hex');
  return `.renku/metadata/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
}

const versionKey = (path: string, checksum: string) => `${checksum} ${path}`;

interface Found {
  /** Version key to the latest commit that wrote it. */
  versions: Map<string, string>;
  /** Run id to the commit that added its metadata. */
  runs: Map<string, string>;
}

/**
 * Streams `git log -z --raw -t` (trees too: folders are versions) from the commit back and keeps
 * only what is asked for, so that memory follows the export, not the length of the history.
 * Newest commits come first: the first commit seen writing a version is its latest writer.
 */
function walkHistory(
  repository: string,
  commit: string,
  versions: Set<string>,
  activities: Map<string, string>,
  options: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Found> {
  const found: Found = { versions: new Map(), runs: new Map() };
  // With -z every field ends in NUL: `commit <id>`, then `:<modes> <ids> <status>` and the path.
  // --root: the first commit's files are listed whatever the user's `log.showRoot` says.
  const args = [
    'log',
    '-z',
    '--raw',
    '-t',
    '--root',
    '--no-abbrev',
    '--no-renames',
    '--format=commit %H',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args, commit, '--'], {
      cwd: repository,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    let current = '';
    let change: string | undefined;
    let rest = '';
    let stderr = '';
    const take = (field: string) => {
      // The newline after `commit <id>` starts the next field; a path is taken as it is, since
      // a file's name may begin with a newline too.
      const text = change === undefined ? field.replace(/^\n/, '') : field;
      if (change !== undefined) {
        // `:<old mode> <new mode> <old id> <new id> <status>`, then this field is the path.
        const [, , , written, status] = change.slice(1).split(' ');
        change = undefined;
        if (status === 'D') return;
        const key = versionKey(text, written);
        if (versions.has(key) && !found.versions.has(key)) found.versions.set(key, current);
        const run = status === 'A' ? activities.get(text) : undefined;
        // Older adds come later in the walk; the first add of the file is the run's commit.
        if (run) found.runs.set(run, current);
      } else if (text.startsWith('commit ')) {
        current = text.slice('commit '.length);
      } else if (text.startsWith(':')) {
        change = text;
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const fields = (rest + chunk).split('\0');
      rest = fields.pop() ?? '';
      fields.forEach(take);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ExportError(`git could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const how = signal ? `was stopped (${signal})` : `exited with ${code}`;
        const last = stderr.trim().split('\n').at(-1) ?? '';
        return reject(new ExportError(`git log ${how}: ${last}`));
      }
      if (rest) take(rest);
      resolve(found);
    });
  });
}
