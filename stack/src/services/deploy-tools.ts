import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { exclusively, readIfExists } from '../lock';
import { cacheDir, repoRoot } from '../paths';
import { MissingPrerequisite, step } from '../progress';

/** Built from source through the Go module proxy: Helm publishes its binaries elsewhere. */
export const helmVersion = 'v4.3.2';
/** From PyPI; bundles the Kubernetes JSON schemas of 1.25 to 1.37. */
export const kubernetesValidateVersion = '1.37.0';
/**
 * The router image the chart runs (values.yaml `router.image.tag`); its configuration schema
 * is the one in the crate of the same version on crates.io.
 */
export const routerVersion = '2.17.0';

const toolsDir = path.join(cacheDir, 'deploy-tools');
const helmBin = path.join(toolsDir, `helm-${helmVersion}`, 'helm');
const venvDir = path.join(toolsDir, `kubernetes-validate-${kubernetesValidateVersion}`);
const venvStamp = path.join(venvDir, '.provisioned');
/** JupyterHub and KubeSpawner as the chart's hub runs them, for renku_kubespawner.py. */
const hubRequirements = path.join(repoRoot, 'deploy', 'jupyterhub', 'requirements.txt');
const hubVenvDir = path.join(toolsDir, 'kubespawner');
const hubVenvStamp = path.join(hubVenvDir, '.requirements.sha256');
const routerSchema = path.join(toolsDir, `apollo-router-${routerVersion}.config.schema.json`);
const lockFile = path.join(toolsDir, 'provision.lock');
const logFile = path.join(cacheDir, 'logs', 'deploy-tools.log');

/** Where the snapshot of `router config schema` lives inside the apollo-router crate. */
const schemaInCrate = `apollo-router-${routerVersion}/src/configuration/snapshots/apollo_router__configuration__tests__schema_generation.snap`;

export interface DeployTools {
  /** The `helm` executable. */
  helm: string;
  /** `kubernetes-validate`, checking manifests against the Kubernetes schemas. */
  kubernetesValidate: string;
  /** A Python with `jsonschema` and `yaml`, for the router's configuration. */
  python: string;
  /** The JSON schema of the router's YAML configuration (draft 7). */
  routerConfigSchema: string;
  /** A Python with JupyterHub and KubeSpawner (deploy/jupyterhub/requirements.txt). */
  kubespawnerPython: string;
}

/**
 * Provisions what checks the deployment files offline: Helm (go install), kubernetes-validate
 * (pip, in its own virtual environment), the Apollo Router's configuration schema (from its
 * crate, fetched by cargo) and JupyterHub with KubeSpawner (pip, another virtual environment).
 * Each lands in `<cache>/deploy-tools` once; Go, pip and cargo keep their downloads in the home
 * folder for the next clean checkout. Safe to call from several processes at once.
 */
export async function provisionDeployTools(): Promise<void> {
  if (isProvisioned()) return;
  await exclusively(lockFile, async () => {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    if (!(await works(helmBin, ['version', '--short']))) await buildHelm();
    if (readIfExists(venvStamp) !== kubernetesValidateVersion) await installValidator();
    if (!fs.existsSync(routerSchema)) await extractRouterSchema();
    if (readIfExists(hubVenvStamp) !== hubRequirementsHash()) await installKubeSpawner();
  });
}

/** The provisioned tools; throws MissingPrerequisite before `provisionDeployTools()` ran. */
export function deployTools(): DeployTools {
  if (!isProvisioned()) {
    throw new MissingPrerequisite('The deployment tools', 'call provisionDeployTools() first');
  }
  return {
    helm: helmBin,
    kubernetesValidate: path.join(venvDir, 'bin', 'kubernetes-validate'),
    python: path.join(venvDir, 'bin', 'python'),
    routerConfigSchema: routerSchema,
    kubespawnerPython: path.join(hubVenvDir, 'bin', 'python'),
  };
}

function isProvisioned(): boolean {
  return (
    fs.existsSync(helmBin) &&
    readIfExists(venvStamp) === kubernetesValidateVersion &&
    fs.existsSync(routerSchema) &&
    readIfExists(hubVenvStamp) === hubRequirementsHash()
  );
}

function hubRequirementsHash(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(hubRequirements)).digest('hex');
}

async function buildHelm(): Promise<void> {
  if (!(await works('go', ['version']))) {
    throw new MissingPrerequisite(
      'go',
      `install Go 1.21 or newer (Debian: apt-get install golang-go; it fetches the Go 1.26 toolchain Helm ${helmVersion} asks for); Helm is built with go install`,
    );
  }
  step(
    `Building Helm ${helmVersion} with go install (about 3 minutes and 550 MB of modules the first time)`,
  );
  const staging = `${path.dirname(helmBin)}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    // -s -w: no symbol tables, a third of the size; a test tool needs no debugging.
    const args = ['install', '-ldflags=-s -w', `helm.sh/helm/v4/cmd/helm@${helmVersion}`];
    await mustRun('go', args, {
      ...process.env,
      GOBIN: staging,
      GOFLAGS: '-buildvcs=false',
    });
    fs.rmSync(path.dirname(helmBin), { recursive: true, force: true });
    fs.renameSync(staging, path.dirname(helmBin));
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function installValidator(): Promise<void> {
  step(`kubernetes-validate ${kubernetesValidateVersion} from PyPI into ${venvDir}`);
  fs.rmSync(venvDir, { recursive: true, force: true });
  if (!(await works('python3', ['-m', 'venv', venvDir]))) {
    fs.rmSync(venvDir, { recursive: true, force: true });
    throw new MissingPrerequisite(
      'python3 with venv',
      'install Python 3.9 or newer (Debian: apt-get install python3-venv)',
    );
  }
  const pip = path.join(venvDir, 'bin', 'pip');
  const args = ['install', '--no-input', '--disable-pip-version-check'];
  await mustRun(pip, [...args, `kubernetes-validate==${kubernetesValidateVersion}`]);
  fs.writeFileSync(venvStamp, kubernetesValidateVersion);
}

/** A fresh environment each time, so that nothing older requirements left behind remains. */
async function installKubeSpawner(): Promise<void> {
  step('JupyterHub and KubeSpawner from PyPI (pinned in deploy/jupyterhub/requirements.txt)');
  fs.rmSync(hubVenvDir, { recursive: true, force: true });
  await mustRun('python3', ['-m', 'venv', hubVenvDir]);
  const pip = path.join(hubVenvDir, 'bin', 'pip');
  const args = ['install', '--no-input', '--disable-pip-version-check', '-r', hubRequirements];
  await mustRun(pip, args);
  fs.writeFileSync(hubVenvStamp, hubRequirementsHash());
}

/**
 * `cargo info` fetches just the crate (2 MB) into cargo's own cache; nothing is built. The
 * schema is the router's `config schema` output, kept in the crate as a test snapshot.
 */
async function extractRouterSchema(): Promise<void> {
  const crateName = `apollo-router-${routerVersion}.crate`;
  step(`Apollo Router ${routerVersion} configuration schema from its crate on crates.io`);
  if (!findCrate(crateName)) {
    if (!(await works('cargo', ['--version']))) {
      throw new MissingPrerequisite(
        'cargo',
        'install Rust (Debian: apt-get install cargo); it fetches the Apollo Router crate, whose configuration schema checks the chart',
      );
    }
    // Outside any cargo workspace, so that cargo looks at the registry only.
    await mustRun('cargo', ['info', `apollo-router@${routerVersion}`], process.env, os.tmpdir());
  }

  const crate = findCrate(crateName);
  if (!crate) {
    throw new MissingPrerequisite(
      `apollo-router-${routerVersion}.crate`,
      `cargo info ran but left no crate in ${cargoHome()}/registry/cache; see ${logFile}`,
    );
  }
  const snapshot = await capture('tar', ['-xzOf', crate, schemaInCrate]);
  // An insta snapshot: a YAML header between two `---` lines, then the JSON.
  const json = snapshot.slice(snapshot.indexOf('{'));
  JSON.parse(json);
  fs.mkdirSync(toolsDir, { recursive: true });
  fs.writeFileSync(`${routerSchema}.tmp`, json);
  fs.renameSync(`${routerSchema}.tmp`, routerSchema);
}

function cargoHome(): string {
  return process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo');
}

function findCrate(name: string): string | undefined {
  const cache = path.join(cargoHome(), 'registry', 'cache');
  const registries = fs.existsSync(cache) ? fs.readdirSync(cache) : [];
  return registries.map((dir) => path.join(cache, dir, name)).find((file) => fs.existsSync(file));
}

/** Whether a command runs and exits 0; its output goes to the log. */
async function works(command: string, args: string[]): Promise<boolean> {
  try {
    return (await run(command, args, process.env)) === 0;
  } catch {
    return false;
  }
}

async function mustRun(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): Promise<void> {
  const code = await run(command, args, env, cwd);
  if (code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit code ${code}); see ${logFile}`);
  }
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<number> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} failed: ${errors.trim()}`)),
    );
  });
}
