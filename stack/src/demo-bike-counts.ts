import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
  const cli = path.join(repoRoot, 'subgraphs', 'lineage', 'dist', 'ingest-cli.js');
  const args = [cli, '--project', bikeCountsProject, '--visibility', 'public'];
  args.push('--member', 'ada.analyst:owner', '--repository', bare, '--commit', 'master');
  const log = fs.openSync(path.join(logDir, 'demo-ingest.log'), 'a');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...args, path.join(demoDir, 'graph.jsonld')], {
      env: { ...process.env, NEO4J_URI: neo4jUrl },
      stdio: ['ignore', log, log],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  fs.closeSync(log);
  if (code !== 0) throw new Error(`loading the demo data failed; see ${logDir}/demo-ingest.log`);
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
