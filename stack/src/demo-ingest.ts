import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { repoRoot } from './paths';

/**
 * Ingests one demo export with the lineage subgraph's own command (`ingest-cli.js`), as a public
 * project Ada owns; `extraArgs` go to the command before the document. Its output goes to
 * `<logDir>/demo-ingest.log`.
 */
export async function ingestDemo(
  neo4jUrl: string,
  logDir: string,
  project: string,
  document: string,
  extraArgs: string[] = [],
): Promise<void> {
  const cli = path.join(repoRoot, 'subgraphs', 'lineage', 'dist', 'ingest-cli.js');
  const args = [cli, '--project', project, '--visibility', 'public'];
  args.push('--member', 'ada.analyst:owner', ...extraArgs, document);
  const log = fs.openSync(path.join(logDir, 'demo-ingest.log'), 'a');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, NEO4J_URI: neo4jUrl },
      stdio: ['ignore', log, log],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  }).finally(() => fs.closeSync(log));
  if (code !== 0) throw new Error(`loading the demo data failed; see ${logDir}/demo-ingest.log`);
}
