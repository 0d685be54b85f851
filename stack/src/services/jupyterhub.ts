import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { cacheDir, repoRoot } from '../paths';
import { assertPortFree, freePort } from '../ports';
import { httpAnswers, sleep, spawnService, type Service } from '../process';
import { MissingPrerequisite, step } from '../progress';

/** The committed hub configuration, spawner and pinned requirements. */
const hubDir = path.join(repoRoot, 'stack', 'jupyterhub');
const requirementsFile = path.join(hubDir, 'requirements.txt');
const venvDir = path.join(cacheDir, 'jupyterhub-venv');
const venvBin = path.join(venvDir, 'bin');
const requirementsStamp = path.join(venvDir, '.requirements.sha256');
const proxyCommand = path.join(repoRoot, 'node_modules', '.bin', 'configurable-http-proxy');

/**
 * Installs JupyterHub and jupyter-server into a virtual environment in the cache folder.
 * Installs again only when `stack/jupyterhub/requirements.txt` changed since the last install.
 */
export async function provisionJupyterHub(): Promise<void> {
  if (!fs.existsSync(proxyCommand)) {
    throw new MissingPrerequisite(
      'configurable-http-proxy',
      'run `npm ci` at the repository root; the stack workspace depends on it',
    );
  }

  const wanted = sha256(fs.readFileSync(requirementsFile));
  if (readIfExists(requirementsStamp) === wanted) return;
  // Test files provision in parallel; two pip runs in one environment would corrupt it.
  await exclusively(path.join(cacheDir, 'jupyterhub-venv.lock'), async () => {
    if (readIfExists(requirementsStamp) !== wanted) await install(wanted);
  });
}

async function install(wanted: string): Promise<void> {
  const log = path.join(cacheDir, 'logs', 'jupyterhub-provision.log');
  fs.mkdirSync(path.dirname(log), { recursive: true });
  // A fresh environment each time, so that nothing the old requirements left behind remains.
  step(`Python virtual environment for JupyterHub in ${venvDir}`);
  fs.rmSync(venvDir, { recursive: true, force: true });
  await createVenv(log);

  step('JupyterHub and jupyter-server from PyPI (pinned in stack/jupyterhub/requirements.txt)');
  const pip = path.join(venvBin, 'pip');
  const args = ['install', '--no-input', '--disable-pip-version-check', '-r', requirementsFile];
  const code = await run(pip, args, log);
  if (code !== 0) {
    throw new Error(`pip install failed (exit code ${code}); see ${log}:\n${tail(log)}`);
  }
  fs.writeFileSync(requirementsStamp, wanted);
}

async function createVenv(log: string): Promise<void> {
  let code: number;
  try {
    code = await run('python3', ['-m', 'venv', venvDir], log);
  } catch {
    throw new MissingPrerequisite(
      'python3',
      'install Python 3.9 or newer (Debian: apt-get install python3)',
    );
  }
  if (code !== 0) {
    // Debian splits venv (and ensurepip) into its own package; a half-made folder would be
    // mistaken for a working environment next time.
    fs.rmSync(venvDir, { recursive: true, force: true });
    throw new MissingPrerequisite(
      'python3-venv',
      `\`python3 -m venv\` failed (Debian: apt-get install python3-venv); see ${log}`,
    );
  }
}

export interface JupyterHubOptions {
  /** The public proxy port users and session URLs use. Default: a free port. */
  port?: number;
  /** The hub's own port, which serves the REST API under `/hub/api`. Default: a free port. */
  hubPort?: number;
  /** The proxy's REST API port, used by the hub only. Default: a free port. */
  proxyApiPort?: number;
  /** Holds the hub's state (database, cookie secret, proxy token) and the session folders. */
  dataDir: string;
  /** Default: `<dataDir>/jupyterhub.log`. */
  logFile?: string;
  /** The sessions subgraph's API token. Default: kept in `<dataDir>/sessions-service-token`. */
  sessionsServiceToken?: string;
}

export interface JupyterHub extends Service {
  /** The public base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The REST API, e.g. `http://127.0.0.1:8081/hub/api`. */
  apiUrl: string;
  /** The token of the `renku-sessions` hub service, for JUPYTERHUB_API_TOKEN. */
  serviceToken: string;
}

/** Runs JupyterHub with its proxy on loopback, configured by `stack/jupyterhub`. */
export async function startJupyterHub(options: JupyterHubOptions): Promise<JupyterHub> {
  if (readIfExists(requirementsStamp) === undefined) {
    throw new MissingPrerequisite('JupyterHub', 'call provisionJupyterHub() first');
  }
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });

  const taken = new Set<number>();
  const port = await choosePort(options.port, 'the JupyterHub proxy', taken);
  const hubPort = await choosePort(options.hubPort, 'the JupyterHub API', taken);
  const proxyApiPort = await choosePort(options.proxyApiPort, 'the JupyterHub proxy API', taken);
  const serviceToken =
    options.sessionsServiceToken ?? keptSecret(dataDir, 'sessions-service-token');
  const url = `http://127.0.0.1:${port}`;
  const apiUrl = `http://127.0.0.1:${hubPort}/hub/api`;

  step(`JupyterHub on ${url} (API ${apiUrl})`);
  const hub = await spawnService({
    name: 'JupyterHub',
    command: path.join(venvBin, 'jupyterhub'),
    args: ['--config', path.join(hubDir, 'jupyterhub_config.py')],
    cwd: dataDir,
    env: {
      ...process.env,
      // The hub finds jupyterhub-singleuser and configurable-http-proxy here as well.
      PATH: [venvBin, path.dirname(proxyCommand), process.env.PATH].join(path.delimiter),
      VIRTUAL_ENV: venvDir,
      // The spawner module is imported from the checkout, which is no place for bytecode.
      PYTHONDONTWRITEBYTECODE: '1',
      RENKU_HUB_DATA_DIR: dataDir,
      RENKU_HUB_PUBLIC_PORT: String(port),
      RENKU_HUB_API_PORT: String(hubPort),
      RENKU_HUB_PROXY_API_PORT: String(proxyApiPort),
      RENKU_HUB_PROXY_COMMAND: proxyCommand,
      RENKU_HUB_SESSIONS_TOKEN: serviceToken,
    },
    logFile: options.logFile ?? path.join(dataDir, 'jupyterhub.log'),
    ready: () => httpAnswers(`${apiUrl}/`),
    timeoutMs: 120_000,
  });

  return {
    name: 'JupyterHub',
    url,
    apiUrl,
    serviceToken,
    stop: async () => {
      await hub.stop();
      // The hub stops its proxy and the single-user servers on a clean shutdown; these are
      // what is left when it had to be killed, as they run in sessions of their own.
      killLeftovers(dataDir);
    },
  };
}

/** A given port must be free; a chosen one also differs from the others chosen (`taken`). */
async function choosePort(
  port: number | undefined,
  owner: string,
  taken: Set<number>,
): Promise<number> {
  if (port) {
    await assertPortFree(port, owner);
  } else {
    port = await freePort();
    while (taken.has(port)) port = await freePort();
  }
  taken.add(port);
  return port;
}

/** A random secret created once per data folder, so that a restarted hub keeps it. */
function keptSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  const kept = readIfExists(file);
  if (kept) return kept;
  const secret = crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Pid files written by the proxy (`proxy.pid`) and by the spawner (`run/*.pid`). */
function killLeftovers(dataDir: string): void {
  const runDir = path.join(dataDir, 'run');
  const pidFiles = [path.join(dataDir, 'proxy.pid')];
  if (fs.existsSync(runDir)) {
    pidFiles.push(...fs.readdirSync(runDir).map((name) => path.join(runDir, name)));
  }
  for (const file of pidFiles) {
    const pid = Number(readIfExists(file));
    // A pid is re-used after its process ended: only ours, recognised by its command, go.
    if (
      Number.isInteger(pid) &&
      pid > 0 &&
      /configurable-http-proxy|jupyterhub-singleuser/.test(commandOf(pid))
    ) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone between the check and the signal.
      }
    }
    fs.rmSync(file, { force: true });
  }
}

function commandOf(pid: number): string {
  return readIfExists(`/proc/${pid}/cmdline`)?.replace(/\0/g, ' ') ?? '';
}

/** Runs `work` while holding a lock file; a lock whose holder died is taken over. */
async function exclusively(lock: string, work: () => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readIfExists(lock));
      if (holder > 0 && !alive(holder)) fs.rmSync(lock, { force: true });
      else await sleep(1000);
    }
  }
  try {
    await work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Runs a command to its end, its output appended to `logFile`; rejects if it cannot start. */
function run(command: string, args: string[], logFile: string): Promise<number> {
  const out = fs.openSync(logFile, 'a');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', out, out] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  }).finally(() => fs.closeSync(out));
}

function tail(file: string, lines = 20): string {
  return (readIfExists(file) ?? '').split('\n').slice(-lines).join('\n');
}
