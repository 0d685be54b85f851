import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { exclusively, readIfExists } from '../lock';
import { cacheDir, repoRoot } from '../paths';
import { assertPortFree, freePort } from '../ports';
import { httpAnswers, spawnService, type Service } from '../process';
import { MissingPrerequisite, step } from '../progress';

/** The committed hub configuration, spawner and pinned requirements. */
const hubDir = path.join(repoRoot, 'stack', 'jupyterhub');
const requirementsFile = path.join(hubDir, 'requirements.txt');
const venvDir = path.join(cacheDir, 'jupyterhub-venv');
const venvBin = path.join(venvDir, 'bin');
const requirementsStamp = path.join(venvDir, '.requirements.sha256');
const proxyCommand = path.join(repoRoot, 'node_modules', '.bin', 'configurable-http-proxy');

/** The resource classes the sessions subgraph offers; the hub enforces the same file. */
export const defaultResourceClassesFile = path.join(
  repoRoot,
  'subgraphs',
  'sessions',
  'resource-classes.json',
);

/** The hub's client in the committed Keycloak realm (stack/keycloak/renku-realm.json). */
export const hubOAuthClient = {
  id: 'renku-jupyterhub',
  devSecret: 'renku-jupyterhub-dev-secret',
} as const;

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
  /**
   * Resource classes the spawner enforces; the sessions subgraph must read the same file.
   * Default: `subgraphs/sessions/resource-classes.json`.
   */
  resourceClassesFile?: string;
  /**
   * Sign-in with Keycloak, so that people can open their sessions in a browser. Default: none,
   * and nobody signs in (session URLs answer their public API only).
   */
  keycloak?: {
    /** e.g. `http://127.0.0.1:8080/realms/renku`. */
    issuer: string;
    /** Default `renku-jupyterhub`. */
    clientId?: string;
    clientSecret: string;
  };
}

export interface JupyterHub extends Service {
  /** The public base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The REST API, e.g. `http://127.0.0.1:8081/hub/api`. */
  apiUrl: string;
  /** The token of the `renku-sessions` hub service, for JUPYTERHUB_API_TOKEN. */
  serviceToken: string;
  /** Working folders of the sessions, `<user>/<server>/`, for JUPYTERHUB_SESSIONS_DIR. */
  sessionsDir: string;
  resourceClassesFile: string;
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
  const resourceClassesFile = path.resolve(
    options.resourceClassesFile ?? defaultResourceClassesFile,
  );
  const oauth = options.keycloak
    ? {
        RENKU_HUB_OAUTH_ISSUER: options.keycloak.issuer,
        RENKU_HUB_OAUTH_CLIENT_ID: options.keycloak.clientId ?? hubOAuthClient.id,
        RENKU_HUB_OAUTH_CLIENT_SECRET: options.keycloak.clientSecret,
      }
    : {};

  step(`JupyterHub on ${url} (API ${apiUrl})`);
  const hub = await spawnService({
    name: 'JupyterHub',
    command: path.join(venvBin, 'jupyterhub'),
    args: ['--config', path.join(hubDir, 'jupyterhub_config.py')],
    cwd: dataDir,
    env: {
      // Only what this call sets configures the hub, not leftovers of the caller's environment.
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('RENKU_HUB_')),
      ),
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
      RENKU_HUB_RESOURCE_CLASSES_FILE: resourceClassesFile,
      ...oauth,
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
    sessionsDir: path.join(dataDir, 'sessions'),
    resourceClassesFile,
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

export interface DemoRepository {
  /** For SESSIONS_GIT_URL: sessions of `ns/name` clone `<baseUrl>/ns/name.git`. */
  baseUrl: string;
  project: string;
  branch: string;
  /** The head of `branch`; the same on every machine (fixed authors, dates and contents). */
  commit: string;
}

/**
 * A bare git repository for the demo project under `root`, so that its sessions have files to
 * work on. It is generated: the commit ids of the real project (in the demo metadata) are not
 * in it, and a session asked for one of them fails saying where `master` is instead.
 */
export async function createDemoRepository(root: string): Promise<DemoRepository> {
  const project = 'ada.analyst/tutorial-zhbikes';
  const branch = 'master';
  const bare = path.join(root, `${project}.git`);
  const baseUrl = `file://${path.resolve(root)}`;
  const head = await git(bare, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`).catch(
    () => undefined,
  );
  if (head) return { baseUrl, project, branch, commit: head };

  step(`demo git repository for ${project} in ${bare}`);
  const work = fs.mkdtempSync(path.join(path.dirname(path.resolve(root)), '.demo-repository-'));
  try {
    await git(work, 'init', '--quiet', `--initial-branch=${branch}`);
    for (const [index, change] of demoHistory.entries()) {
      for (const [file, text] of Object.entries(change.files)) {
        fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
        fs.writeFileSync(path.join(work, file), text);
      }
      await git(work, 'add', '--all');
      // Fixed identities and dates make the same commit ids everywhere.
      const date = `2024-03-0${index + 1}T09:00:00+00:00`;
      await git(work, 'commit', '--quiet', '--no-gpg-sign', '-m', change.message, {
        GIT_AUTHOR_NAME: 'Ada Analyst',
        GIT_AUTHOR_EMAIL: 'ada.analyst@example.org',
        GIT_COMMITTER_NAME: 'Ada Analyst',
        GIT_COMMITTER_EMAIL: 'ada.analyst@example.org',
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      });
    }
    fs.mkdirSync(path.dirname(bare), { recursive: true });
    fs.rmSync(bare, { recursive: true, force: true });
    await git(path.dirname(bare), 'clone', '--quiet', '--bare', work, bare);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { baseUrl, project, branch, commit: await git(bare, 'rev-parse', branch) };
}

/** Files written for the demo repository, commit by commit; not the real project's contents. */
const demoHistory: { message: string; files: Record<string, string> }[] = [
  {
    message: 'Start the project',
    files: {
      'README.md':
        '# tutorial-zhbikes\n\nBike counts in Zurich: cleaning the data and plotting it.\n\n' +
        'This repository is generated by the local stack as a stand-in for the real project;\n' +
        'its history does not hold the commits of the demo metadata.\n',
      'requirements.txt': 'pandas\npyarrow\nmatplotlib\n',
    },
  },
  {
    message: 'Add the cleaning and plotting scripts',
    files: {
      'src/clean_data.py':
        '"""Reads the raw counts in a folder and writes them as one Parquet file."""\n' +
        'import glob\nimport sys\n\nimport pandas as pd\n\n\n' +
        'def main(source, target):\n' +
        '    frames = [pd.read_csv(path) for path in sorted(glob.glob(f"{source}/*.csv"))]\n' +
        '    pd.concat(frames).to_parquet(target)\n\n\n' +
        'if __name__ == "__main__":\n    main(sys.argv[1], sys.argv[2])\n',
      'src/plot_data.py':
        '"""Plots the cleaned counts."""\nimport sys\n\nimport pandas as pd\n\n\n' +
        'def main(source, target):\n' +
        '    pd.read_parquet(source).plot().get_figure().savefig(target)\n\n\n' +
        'if __name__ == "__main__":\n    main(sys.argv[1], sys.argv[2])\n',
    },
  },
];

function git(cwd: string, ...args: (string | Record<string, string>)[]): Promise<string> {
  const env = args.find((arg): arg is Record<string, string> => typeof arg === 'object');
  const plain = args.filter((arg): arg is string => typeof arg === 'string');
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', cwd, ...plain],
      { env: { ...process.env, ...env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${plain.join(' ')} failed: ${stderr.trim()}`));
        else resolve(stdout.trim());
      },
    );
  });
}
