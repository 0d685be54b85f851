import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { cacheDir, repoRoot } from '../paths';
import { assertPortFree, freePort } from '../ports';
import { sleep, spawnService, type Service } from '../process';
import { MissingPrerequisite, step } from '../progress';
import { buildUserLookupProvider, userLookupSourcesHash } from './keycloak-user-lookup';

const run = promisify(execFile);

/** Runs on Java 17 (the machine's default), 21 and 25. */
export const keycloakVersion = '26.7.3';

export const keycloakRealm = 'renku';

/** The committed realm: users, roles, groups and clients of the local stack (dev secrets). */
export const keycloakRealmFile = path.join(repoRoot, 'stack', 'keycloak', 'renku-realm.json');

/**
 * The identity provider `gitlab` that `startKeycloak({ gitlabUrl })` adds to the realm: GitLab
 * (here the stand-in) as OpenID Connect provider, its tokens stored for the gateway to read.
 * Its URLs name the stack's stand-in, `gitlabIdpDefaultUrl`, replaced by the one given.
 */
export const gitlabIdentityProviderFile = path.join(
  repoRoot,
  'stack',
  'keycloak',
  'gitlab-identity-provider.json',
);
const gitlabIdpDefaultUrl = 'http://127.0.0.1:8929';

/** Demo accounts of the committed realm; documented, for local use only. */
export const keycloakDemoUsers = {
  ada: { username: 'ada.analyst', password: 'ada-demo-password' },
  bob: { username: 'bob.builder', password: 'bob-demo-password' },
  grace: { username: 'grace.admin', password: 'grace-demo-password' },
} as const;

/** Clients of the committed realm and their dev secrets (overridable, see startKeycloak). */
export const keycloakClients = {
  cli: 'renku-cli',
  gateway: 'renku-gateway',
  identity: 'renku-identity',
  audience: 'renku-supergraph',
} as const;

const distDir = path.join(cacheDir, `keycloak-${keycloakVersion}`);
const marker = path.join(distDir, '.provisioned');

/**
 * Build-time options. Every start passes exactly these: a start with other
 * build options would re-augment the shared distribution in place, which is
 * slow and unsafe while another instance runs from it.
 */
const buildOptions = ['--db=dev-mem', '--health-enabled=true'];

/**
 * Downloads the Keycloak server through Maven (so the zip stays in ~/.m2 for
 * later runs), unpacks it into the cache, adds our extensions to its
 * `providers/` and runs the dev-mode augmentation once, so that every later
 * start skips it. Done again when the build options or an extension's sources
 * change: `start-dev` would otherwise re-augment the shared distribution at the
 * next start, in place.
 */
export async function provisionKeycloak(): Promise<void> {
  if (isProvisioned(markerFor(userLookupSourcesHash()))) return;
  await checkPrerequisites();
  const userLookup = await buildUserLookupProvider();

  await withLock(path.join(cacheDir, `keycloak-${keycloakVersion}.lock`), async () => {
    const wanted = markerFor(userLookup.sourcesHash);
    if (isProvisioned(wanted)) return;
    const staging = path.join(cacheDir, `keycloak-${keycloakVersion}.staging-${process.pid}`);
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    try {
      step(`Fetching Keycloak ${keycloakVersion} from Maven Central (about 180 MB the first time)`);
      const zip = await fetchDistribution(staging);

      step(`Unpacking Keycloak ${keycloakVersion}`);
      await unpack(zip, staging);
      fs.rmSync(zip);
      const unpacked = path.join(staging, `keycloak-${keycloakVersion}`);
      const { jar } = userLookup;
      fs.copyFileSync(jar, path.join(unpacked, 'providers', path.basename(jar)));

      step('Preparing Keycloak with its extensions (one-time dev-mode build, about a minute)');
      await augment(unpacked);

      fs.writeFileSync(path.join(unpacked, path.basename(marker)), wanted);
      // Swapped by renames: an instance still running from the old one keeps its open files.
      const previous = `${distDir}.previous-${process.pid}`;
      if (fs.existsSync(distDir)) fs.renameSync(distDir, previous);
      fs.renameSync(unpacked, distDir);
      fs.rmSync(previous, { recursive: true, force: true });
      step(`Keycloak ${keycloakVersion} is ready in ${distDir}`);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  });
}

export interface KeycloakOptions {
  /** Default: a free port. */
  httpPort?: number;
  /** Health and metrics interface. Default: a free port. */
  managementPort?: number;
  /**
   * This instance's own home: its realm import, transaction log and temporary
   * files. Default: a fresh folder under the cache, removed on stop.
   */
  dataDir?: string;
  /** Default: `keycloak.log` in the data folder. */
  logFile?: string;
  /**
   * The public base URL that tokens name as issuer. Default
   * `http://127.0.0.1:<httpPort>`, fixed so that the issuer does not depend on
   * the host name a client happened to use.
   */
  publicUrl?: string;
  /** Master-realm admin. Default user `admin` and a random password per start. */
  adminUser?: string;
  adminPassword?: string;
  /** Where to keep the admin password for people (owner-only file); never in a log. */
  adminPasswordFile?: string;
  /**
   * Secrets of the confidential clients. Default: `KEYCLOAK_GATEWAY_CLIENT_SECRET`
   * and `IDENTITY_CLIENT_SECRET` from the environment, else the dev secrets of
   * the committed realm.
   */
  gatewayClientSecret?: string;
  identityClientSecret?: string;
  /**
   * The GitLab that the realm's identity provider `gitlab` signs users in with (the stand-in's
   * `url`; browsers and Keycloak must both reach it there). Default none: the realm has no
   * identity provider.
   */
  gitlabUrl?: string;
  /** Default 300 s: a first start on two cores takes up to a minute, two at once longer. */
  timeoutMs?: number;
}

export interface Keycloak extends Service {
  httpPort: number;
  managementPort: number;
  /** `<publicUrl>/realms/renku` */
  issuer: string;
  realm: string;
  adminUser: string;
  adminPassword: string;
  gatewayClientSecret: string;
  identityClientSecret: string;
}

/**
 * Starts Keycloak in dev mode on 127.0.0.1 with an in-memory database and the
 * committed `renku` realm imported. Instances share nothing but the read-only
 * distribution, so several may run at once.
 */
export async function startKeycloak(options: KeycloakOptions = {}): Promise<Keycloak> {
  await provisionKeycloak();

  const httpPort = options.httpPort || (await freePort());
  let managementPort = options.managementPort || (await freePort());
  while (managementPort === httpPort) managementPort = await freePort();
  await assertPortFree(httpPort, 'Keycloak HTTP');
  await assertPortFree(managementPort, 'Keycloak management');

  const ownDataDir = options.dataDir === undefined;
  const dataDir =
    options.dataDir ??
    fs.mkdtempSync(path.join(ensureDir(path.join(cacheDir, 'run')), 'keycloak-'));
  const logFile = options.logFile ?? path.join(dataDir, 'keycloak.log');
  const url = `http://127.0.0.1:${httpPort}`;
  const publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');
  const issuer = `${publicUrl}/realms/${keycloakRealm}`;
  const adminUser = options.adminUser ?? 'admin';
  const adminPassword = options.adminPassword ?? randomBytes(18).toString('base64url');
  if (options.adminPasswordFile) {
    fs.rmSync(options.adminPasswordFile, { force: true });
    fs.writeFileSync(options.adminPasswordFile, `${adminPassword}\n`, { mode: 0o600 });
  }
  const gatewayClientSecret =
    options.gatewayClientSecret ?? process.env.KEYCLOAK_GATEWAY_CLIENT_SECRET;
  const identityClientSecret = options.identityClientSecret ?? process.env.IDENTITY_CLIENT_SECRET;

  const home = prepareHome(dataDir);
  const realm = writeRealmImport(home, {
    gatewayClientSecret,
    identityClientSecret,
    gitlabUrl: options.gitlabUrl,
  });

  step(`Starting Keycloak on ${url} (dev mode; takes a while on a small machine)`);
  const spawned = await spawnService({
    name: 'Keycloak',
    command: path.join(home, 'bin', 'kc.sh'),
    args: [
      'start-dev',
      ...buildOptions,
      '--http-host=127.0.0.1',
      `--http-port=${httpPort}`,
      `--http-management-port=${managementPort}`,
      `--hostname=${publicUrl}`,
      '--import-realm',
    ],
    cwd: home,
    env: {
      ...withoutKeycloakSettings(process.env),
      KC_BOOTSTRAP_ADMIN_USERNAME: adminUser,
      KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    },
    logFile,
    ready: () => discoveryAnswers(url),
    timeoutMs: options.timeoutMs ?? 300_000,
  }).catch((error: unknown) => {
    if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });

  return {
    name: 'Keycloak',
    url,
    httpPort,
    managementPort,
    issuer,
    realm: keycloakRealm,
    adminUser,
    adminPassword,
    gatewayClientSecret: realm.gatewayClientSecret,
    identityClientSecret: realm.identityClientSecret,
    stop: async () => {
      await spawned.stop();
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What a provisioned distribution was made with: build options and extension sources. */
function markerFor(userLookupSources: string): string {
  return `${buildOptions.join(' ')}\nuser-lookup ${userLookupSources}\n`;
}

function isProvisioned(wanted: string): boolean {
  try {
    return fs.readFileSync(marker, 'utf8') === wanted;
  } catch {
    return false;
  }
}

async function checkPrerequisites(): Promise<void> {
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  if (!(await succeeds(java, ['-version']))) {
    throw new MissingPrerequisite(
      'java',
      'install a JDK 17, 21 or 25 (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME',
    );
  }
  if (!(await succeeds('mvn', ['--version']))) {
    throw new MissingPrerequisite(
      'mvn',
      'install Apache Maven (e.g. apt-get install maven); it fetches Keycloak from Maven Central',
    );
  }
  if (!(await succeeds('unzip', ['-v'])) && !(await succeeds('jar', ['--version']))) {
    throw new MissingPrerequisite(
      'unzip',
      'install unzip (apt-get install unzip), or a full JDK with the jar tool',
    );
  }
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args, { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

async function fetchDistribution(into: string): Promise<string> {
  const artifact = `org.keycloak:keycloak-quarkus-dist:${keycloakVersion}:zip`;
  try {
    await run(
      'mvn',
      ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${into}`],
      { timeout: 30 * 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    throw new Error(
      `mvn could not fetch ${artifact}:\n${output.trim().split('\n').slice(-20).join('\n')}`,
    );
  }
  return path.join(into, `keycloak-quarkus-dist-${keycloakVersion}.zip`);
}

async function unpack(zip: string, into: string): Promise<void> {
  const options = { cwd: into, timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 };
  if (await succeeds('unzip', ['-v'])) await run('unzip', ['-q', zip], options);
  else await run('jar', ['xf', zip], options);
  // `jar` does not keep the executable bit.
  for (const script of fs.readdirSync(path.join(into, `keycloak-${keycloakVersion}`, 'bin'))) {
    if (script.endsWith('.sh')) {
      fs.chmodSync(path.join(into, `keycloak-${keycloakVersion}`, 'bin', script), 0o755);
    }
  }
}

/**
 * `start-dev` augments the server for the dev profile and then relaunches it;
 * only `start-dev` itself can do that (`kc.sh build` refuses the dev profile).
 * The relaunch announces dev mode, by which time the result is persisted in
 * `lib/quarkus`, so the server is stopped right there.
 */
async function augment(dist: string): Promise<void> {
  const logFile = path.join(dist, 'augment.log');
  const { stop } = await spawnService({
    name: 'Keycloak dev-mode build',
    command: path.join(dist, 'bin', 'kc.sh'),
    args: [
      'start-dev',
      ...buildOptions,
      '--http-host=127.0.0.1',
      `--http-port=${await freePort()}`,
      `--http-management-port=${await freePort()}`,
    ],
    cwd: dist,
    env: withoutKeycloakSettings(process.env),
    logFile,
    ready: async () =>
      fs.readFileSync(logFile, 'utf8').includes('Running the server in development mode'),
    timeoutMs: 15 * 60_000,
  });
  await stop();
  fs.rmSync(path.join(dist, 'data'), { recursive: true, force: true });
  fs.rmSync(logFile, { force: true });
}

/**
 * Keycloak keeps its data under `<home>/data`, the home being the folder above
 * the `kc.sh` that runs. A home of its own per instance (a copy of `bin/`,
 * links to the read-only rest) keeps instances apart.
 */
function prepareHome(dataDir: string): string {
  const home = path.join(dataDir, 'home');
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(path.join(home, 'data', 'import'), { recursive: true });
  fs.cpSync(path.join(distDir, 'bin'), path.join(home, 'bin'), { recursive: true });
  for (const entry of ['lib', 'conf', 'providers', 'themes', 'version.txt']) {
    fs.symlinkSync(path.join(distDir, entry), path.join(home, entry));
  }
  return home;
}

interface RealmSecrets {
  gatewayClientSecret?: string;
  identityClientSecret?: string;
}

/**
 * Writes the committed realm into this instance's import folder, with secrets applied and,
 * given a GitLab, the identity provider pointing at it. Every instance starts from an empty
 * in-memory database, so importing at each start is what makes this idempotent.
 */
function writeRealmImport(
  home: string,
  secrets: RealmSecrets & { gitlabUrl?: string },
): Required<RealmSecrets> {
  const realm = JSON.parse(fs.readFileSync(keycloakRealmFile, 'utf8')) as {
    clients: { clientId: string; secret?: string }[];
    identityProviders?: unknown[];
  };
  const client = (clientId: string) => {
    const found = realm.clients.find((c) => c.clientId === clientId);
    if (!found) throw new Error(`${keycloakRealmFile} has no client ${clientId}`);
    return found;
  };
  const gateway = client(keycloakClients.gateway);
  const identity = client(keycloakClients.identity);
  if (secrets.gatewayClientSecret) gateway.secret = secrets.gatewayClientSecret;
  if (secrets.identityClientSecret) identity.secret = secrets.identityClientSecret;
  if (secrets.gitlabUrl) {
    // The fragment stays out of the committed realm: docker-compose imports that file as it is,
    // and there the stand-in has other addresses for browsers and for Keycloak.
    const base = secrets.gitlabUrl.replace(/\/+$/, '');
    const fragment = fs.readFileSync(gitlabIdentityProviderFile, 'utf8');
    realm.identityProviders = (
      JSON.parse(fragment.replaceAll(gitlabIdpDefaultUrl, base)) as { identityProviders: unknown[] }
    ).identityProviders;
  }

  const file = path.join(home, 'data', 'import', `${keycloakRealm}-realm.json`);
  fs.writeFileSync(file, JSON.stringify(realm), { mode: 0o600 });
  return { gatewayClientSecret: gateway.secret!, identityClientSecret: identity.secret! };
}

/** Ready once the realm is imported and its discovery document is served. */
async function discoveryAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(
      `${url}/realms/${keycloakRealm}/.well-known/openid-configuration`,
      {
        signal: AbortSignal.timeout(2000),
      },
    );
    return response.ok;
  } catch {
    return false;
  }
}

/** `KC_*` settings meant for some other Keycloak must not change this one. */
function withoutKeycloakSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('KC_')));
}

function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A lock folder so that two processes provisioning at once (two test files)
 * do the work once. A lock left by a process that died is taken over.
 */
async function withLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!holderAlive(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await sleep(1000);
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // Either just created, its pid not yet written, or left so by a crash.
    try {
      return Date.now() - fs.statSync(lock).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
