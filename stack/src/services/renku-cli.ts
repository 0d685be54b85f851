import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { cacheDir, repoRoot } from '../paths';
import { exclusively, readIfExists } from '../lock';
import { MissingPrerequisite, step } from '../progress';

/** Pinned by the lineage subgraph, which runs the CLI to export commits. */
const requirementsFile = path.join(repoRoot, 'subgraphs', 'lineage', 'renku', 'requirements.txt');
const venvDir = path.join(cacheDir, 'renku-venv');
const requirementsStamp = path.join(venvDir, '.requirements.sha256');
const lockFile = path.join(cacheDir, 'renku-venv.lock');
const provisionLog = path.join(cacheDir, 'logs', 'renku-provision.log');

/** renku 2.9 declares `Requires-Python >=3.8.1,<3.12`. */
const pythonHint = 'install Python 3.9, 3.10 or 3.11 as python3 (renku 2.9 refuses 3.12 and newer)';

export interface RenkuCli {
  /** The `renku` executable. */
  command: string;
  /** The folder holding it; put it first on PATH, renku's git hooks call `renku` by name. */
  binDir: string;
}

/**
 * Installs the renku CLI into `<cache>/renku-venv` from the pinned requirements. Installs again
 * only when the requirements changed; pip keeps the wheels in its own cache for the next time.
 * Safe to call from several processes at once: one installs, the others wait for it.
 */
export async function provisionRenkuCli(): Promise<void> {
  const wanted = sha256(fs.readFileSync(requirementsFile));
  if (readIfExists(requirementsStamp) === wanted) return;
  await exclusively(lockFile, async () => {
    if (readIfExists(requirementsStamp) !== wanted) await install(wanted);
  });
}

/** The installed CLI; throws MissingPrerequisite before `provisionRenkuCli()` ran. */
export function renkuCli(): RenkuCli {
  const binDir = path.join(venvDir, 'bin');
  const command = path.join(binDir, 'renku');
  if (readIfExists(requirementsStamp) === undefined || !fs.existsSync(command)) {
    throw new MissingPrerequisite('The renku CLI', 'call provisionRenkuCli() first');
  }
  return { command, binDir };
}

async function install(wanted: string): Promise<void> {
  fs.mkdirSync(path.dirname(provisionLog), { recursive: true });
  await checkPython();

  // A fresh environment each time, so that nothing the old requirements left behind remains.
  step(`Python virtual environment for the renku CLI in ${venvDir}`);
  fs.rmSync(venvDir, { recursive: true, force: true });
  if ((await run('python3', ['-m', 'venv', venvDir], provisionLog)) !== 0) {
    fs.rmSync(venvDir, { recursive: true, force: true });
    throw new MissingPrerequisite(
      'python3-venv',
      `\`python3 -m venv\` failed (Debian: apt-get install python3-venv); see ${provisionLog}`,
    );
  }

  step('The renku CLI 2.9 from PyPI (pinned in subgraphs/lineage/renku/requirements.txt)');
  const pip = path.join(venvDir, 'bin', 'pip');
  const args = ['install', '--no-input', '--disable-pip-version-check', '-r', requirementsFile];
  const code = await run(pip, args, provisionLog);
  if (code !== 0) {
    throw new Error(`pip install failed (exit code ${code}); see ${provisionLog}`);
  }
  fs.writeFileSync(requirementsStamp, wanted);
}

async function checkPython(): Promise<void> {
  const versionScript = 'import sys; print("%d.%d" % sys.version_info[:2])';
  let output = '';
  try {
    output = await capture('python3', ['-c', versionScript]);
  } catch {
    throw new MissingPrerequisite('python3', pythonHint);
  }
  const [major, minor] = output.trim().split('.').map(Number);
  if (major !== 3 || minor < 9 || minor > 11) {
    throw new MissingPrerequisite(`Python 3.9 to 3.11 (found ${output.trim()})`, pythonHint);
  }
}

function run(command: string, args: string[], logFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', () => resolve(output));
  });
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}
