import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ingestDemo } from './demo-ingest';
import { repoRoot } from './paths';
import { step } from './progress';

/** The renku 2.x demo project: its repository and its lineage come from `demo/bike-counts/`. */
export const bikeCountsProject = 'ada.analyst/bike-counts';

const demoDir = path.join(repoRoot, 'demo', 'bike-counts');

/**
 * Puts the demo's renku 2.x project where sessions clone from (`<gitRoot>/<project>.git`, a
 * bare clone of the committed bundle, made again only when the bundle changed) and ingests its
 * `renku graph export` with the commits of that history, the way a push exported by the lineage
 * subgraph gets them. Unlike the 0.x tutorial, every commit its lineage names can be checked
 * out in a session.
 */
export async function loadBikeCountsDemo(
  gitRoot: string,
  neo4jUrl: string,
  logDir: string,
): Promise<void> {
  const bundle = path.join(demoDir, 'repository.bundle');
  const bare = path.join(gitRoot, `${bikeCountsProject}.git`);
  const [bundleHead] = (await git(demoDir, 'bundle', 'list-heads', bundle, 'refs/heads/master'))
    .split(/\s/)
    .filter(Boolean);
  const head = await git(bare, 'rev-parse', '--verify', '--quiet', 'refs/heads/master').catch(
    () => undefined,
  );
  if (head !== bundleHead) {
    step(`demo git repository for ${bikeCountsProject} in ${bare}`);
    fs.rmSync(bare, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(bare), { recursive: true });
    await git(path.dirname(bare), 'clone', '--quiet', '--bare', bundle, bare);
  }

  step(`loading the demo project ${bikeCountsProject} (renku 2.x) into Neo4j`);
  await ingestDemo(neo4jUrl, logDir, bikeCountsProject, path.join(demoDir, 'graph.jsonld'), [
    '--repository',
    bare,
    '--commit',
    'master',
  ]);
}

function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', cwd, ...args],
      // No user or system configuration: the same repository on every machine.
      { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr.trim()}`));
        else resolve(stdout.trim());
      },
    );
  });
}
