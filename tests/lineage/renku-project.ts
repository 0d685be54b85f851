import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { RenkuCli } from '../../stack/src/services/renku-cli';

/**
 * A small renku 2.x project made by the real CLI:
 *
 *   data/raw.csv -> head  -> left.csv  -\
 *   data/raw.csv -> tail  -> right.csv -+-> join -> joined.csv -> wc -> count.txt
 *
 * a diamond from data/raw.csv to joined.csv; then `rejoin` writes joined.csv again from the
 * same inputs, so its latest producer changes. `renku update` is not used: renku 2.9.4 fails on
 * this diamond inside toil (ConflictingPredecessorError).
 */
export interface RenkuProject {
  dir: string;
  /**
   * The commit after the runs, the one after data/raw.csv changed, and the commit each run
   * made, by its name (`left`, `right`, `join`, `count`, `rejoin`).
   */
  commits: { runs: string; modified: string; [run: string]: string };
  /** `renku graph export --format jsonld --full` at each of those commits. */
  exports: { runs: unknown; modified: unknown };
  /**
   * `renku workflow visualize --format dot <path>` at the `runs` commit, per path, and
   * `--from data/raw.csv` (everything downstream of it).
   */
  visualized: Record<string, string>;
  /** `renku status` after data/raw.csv changed. */
  status: string;
}

export async function makeRenkuProject(root: string, cli: RenkuCli): Promise<RenkuProject> {
  const { dir, run, renkuRun } = await startRenkuProject(root, path.join(root, 'flights'), cli);
  await mkdir(path.join(dir, 'data'));
  await writeFile(path.join(dir, 'data', 'raw.csv'), 'a,1\nb,2\nc,3\nd,4\n');
  await run('git', ['add', 'data']);
  await run('git', ['commit', '-q', '-m', 'raw data']);

  const runs: [name: string, args: string[], stdout: string][] = [
    ['left', ['head', '-n', '2', 'data/raw.csv'], 'left.csv'],
    ['right', ['tail', '-n', '2', 'data/raw.csv'], 'right.csv'],
    ['join', ['cat', 'left.csv', 'right.csv'], 'joined.csv'],
    ['count', ['wc', '-l', 'joined.csv'], 'count.txt'],
    ['rejoin', ['cat', 'right.csv', 'left.csv'], 'joined.csv'],
  ];
  const runCommits: Record<string, string> = {};
  for (const [name, args, stdout] of runs) runCommits[name] = await renkuRun(name, args, stdout);
  const exportGraph = async () =>
    JSON.parse(await run(cli.command, ['graph', 'export', '--format', 'jsonld', '--full']));
  const head = async () => (await run('git', ['rev-parse', 'HEAD'])).trim();

  const commits = { runs: await head(), modified: '', ...runCommits };
  const exports = { runs: await exportGraph(), modified: undefined as unknown };
  const visualized: Record<string, string> = {};
  for (const target of ['count.txt', 'joined.csv', 'left.csv', '--from data/raw.csv']) {
    const args = ['workflow', 'visualize', '--format', 'dot', '--no-pager', ...target.split(' ')];
    visualized[target] = await run(cli.command, args);
  }

  await writeFile(path.join(dir, 'data', 'raw.csv'), 'a,1\nb,2\nc,3\nd,4\ne,5\n');
  await run('git', ['commit', '-q', '-a', '-m', 'more raw data']);
  commits.modified = await head();
  exports.modified = await exportGraph();
  // Like `git diff --exit-code`, renku status exits with 1 when something is outdated.
  const status = await run(cli.command, ['status'], undefined, [0, 1]);

  return { dir, commits, exports, visualized, status };
}

/** A renku project being made, and the commands to work in it as Ada. */
export interface RenkuWorkspace {
  dir: string;
  /** Runs a command in the project; with `stdout`, its output goes to that file there. */
  run(command: string, args: string[], stdout?: string, okCodes?: number[]): Promise<string>;
  /** `renku run --name NAME ARGS > STDOUT`; the commit renku made for the run. */
  renkuRun(name: string, args: string[], stdout: string): Promise<string>;
}

/** `renku init` of a new project in `dir`, by Ada, with renku's minimal template. */
export async function startRenkuProject(
  root: string,
  dir: string,
  cli: RenkuCli,
): Promise<RenkuWorkspace> {
  const home = path.join(root, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(
    path.join(home, '.gitconfig'),
    '[user]\n\tname = Ada Analyst\n\temail = ada.analyst@example.org\n[init]\n\tdefaultBranch = master\n',
  );
  const env = {
    ...process.env,
    HOME: home,
    // renku's git hooks call `renku` by name.
    PATH: `${cli.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  const run = (command: string, args: string[], stdout?: string, okCodes?: number[]) =>
    shell(command, args, { cwd: dir, env }, stdout && path.join(dir, stdout), okCodes);
  // `-S`: no git-LFS here; renku refuses to commit outputs without it unless told.
  const renkuRun = async (name: string, args: string[], stdout: string) => {
    await run(cli.command, ['-S', 'run', '--name', name, ...args], stdout);
    return (await run('git', ['rev-parse', 'HEAD'])).trim();
  };
  await mkdir(dir, { recursive: true });
  await run(cli.command, ['init', '--template-id', 'minimal', '.']);
  return { dir, run, renkuRun };
}

/** The edges of a `renku workflow visualize --format dot` graph, as `source -> target`. */
export function dotEdges(dot: string): string[] {
  return [...dot.matchAll(/"((?:[^"\\]|\\.)*)"\s*->\s*"((?:[^"\\]|\\.)*)"/g)]
    .map(([, source, target]) => `${source} -> ${target}`)
    .sort();
}

/** The outdated outputs `renku status` lists. */
export function outdatedOutputs(status: string): string[] {
  const section = /Outdated outputs\(\d+\):([\s\S]*?)(?:\n\S|$)/.exec(status)?.[1] ?? '';
  return [...section.matchAll(/^\t(\S+?): /gm)].map(([, file]) => file).sort();
}

function shell(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
  stdoutFile?: string,
  okCodes = [0],
): Promise<string> {
  return new Promise((resolve, reject) => {
    // renku notices stdout redirected to a file in the repository and records it as an output.
    const out = stdoutFile === undefined ? 'pipe' : openSync(stdoutFile, 'w');
    const child = spawn(command, args, { ...options, stdio: ['ignore', out, 'pipe'] });
    if (typeof out === 'number') closeSync(out);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (okCodes.includes(code ?? -1)) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr}`));
    });
  });
}
