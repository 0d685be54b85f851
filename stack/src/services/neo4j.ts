import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import neo4j, { type Driver } from 'neo4j-driver';

import { cacheDir, repoRoot } from '../paths';
import { assertPortFree, freePort } from '../ports';
import { sleep, spawnService, type Service } from '../process';
import { MissingPrerequisite, step } from '../progress';
import { mavenSourcesHash } from '../source-hash';

/** The Maven project of the launcher (Neo4j Community embedded, serving Bolt). */
const launcherProject = path.join(repoRoot, 'neo4j', 'launcher');
/** The built launcher: `neo4j-launcher.jar` beside the `lib/` folder its manifest names. */
const launcherDir = path.join(cacheDir, 'neo4j-launcher');
const launcherJar = path.join(launcherDir, 'neo4j-launcher.jar');
const sourcesStamp = path.join(launcherDir, '.sources.sha256');
const buildLock = path.join(cacheDir, 'neo4j-launcher.lock');
const provisionLog = path.join(cacheDir, 'logs', 'neo4j-provision.log');

const javaHint = 'install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless)';
const mavenHint = 'install Apache Maven (Debian: apt-get install maven)';

/**
 * Builds the launcher into `<cache>/neo4j-launcher` with Maven. Builds again only when the
 * launcher's pom or sources changed since the last build; Maven keeps Neo4j's jars in `~/.m2`.
 * Safe to call from several processes at once: one builds, the others wait for it.
 */
export async function provisionNeo4j(): Promise<void> {
  await checkJava();
  const wanted = mavenSourcesHash(launcherProject);
  if (isBuilt(wanted)) return;

  await checkMaven();
  fs.mkdirSync(cacheDir, { recursive: true });
  const release = await acquireLock(buildLock);
  try {
    // Another process may have built it while this one waited for the lock.
    if (isBuilt(wanted)) return;
    await build(wanted);
  } finally {
    release();
  }
}

export interface Neo4jOptions {
  /** The Bolt port on 127.0.0.1. Default (or 0): a free port. */
  boltPort?: number;
  /** Neo4j's home folder: the store, its transaction logs and Neo4j's own logs go under it. */
  dataDir: string;
  /** The launcher's output. Default: `<dataDir>/neo4j-launcher.log`. */
  logFile?: string;
}

export interface Neo4j extends Service {
  /** `bolt://127.0.0.1:<boltPort>`; authentication is off, any credentials are accepted. */
  url: string;
  boltPort: number;
}

/**
 * Runs Neo4j on loopback from the launcher built by `provisionNeo4j()` and resolves once Bolt
 * answers a query. The JVM heap is `NEO4J_HEAP` (default 512m); the page cache
 * `NEO4J_PAGECACHE` (default 256m).
 */
export async function startNeo4j(options: Neo4jOptions): Promise<Neo4j> {
  if (!fs.existsSync(launcherJar)) {
    throw new MissingPrerequisite('The Neo4j launcher', 'call provisionNeo4j() first');
  }
  const heap = heapSize();
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = options.logFile ?? path.join(dataDir, 'neo4j-launcher.log');

  if (options.boltPort) {
    await assertPortFree(options.boltPort, 'Neo4j Bolt');
    return launch({ boltPort: options.boltPort, dataDir, logFile, heap });
  }

  // A free port can be taken by another process before the JVM binds it; with several
  // instances starting side by side that happens, so a lost race is retried on a new port.
  for (let attempt = 1; ; attempt++) {
    const boltPort = await freePort();
    const logStart = sizeOf(logFile);
    try {
      return await launch({ boltPort, dataDir, logFile, heap });
    } catch (error) {
      const lostRace = readFrom(logFile, logStart).includes('Address already in use');
      if (!lostRace || attempt === 3) throw error;
    }
  }
}

interface Launch {
  boltPort: number;
  dataDir: string;
  logFile: string;
  heap: string;
}

async function launch({ boltPort, dataDir, logFile, heap }: Launch): Promise<Neo4j> {
  const url = `bolt://127.0.0.1:${boltPort}`;
  const readyLine = `neo4j ready ${url}`;
  // The log is appended to across restarts: only a ready line written by this run counts.
  const logStart = sizeOf(logFile);

  step(`Neo4j on ${url} (data in ${dataDir})`);
  const driver = neo4j.driver(url, undefined, {
    connectionTimeout: 2_000,
    maxConnectionPoolSize: 1,
  });
  try {
    const spawned = await spawnService({
      name: 'Neo4j',
      command: javaCommand(),
      args: [
        `-Xmx${heap}`,
        '-XX:+ExitOnOutOfMemoryError',
        // Netty (Bolt) uses direct buffers through reflection when it may; Neo4j's server sets it.
        '-Dio.netty.tryReflectionSetAccessible=true',
        '-jar',
        launcherJar,
        '--data-dir',
        dataDir,
        '--bolt-port',
        String(boltPort),
        // Neo4j goes when this process goes, even if it never got to call stop().
        '--exit-with-parent',
      ],
      cwd: dataDir,
      logFile,
      ready: async () =>
        readFrom(logFile, logStart).includes(readyLine) && (await answersQuery(driver)),
      timeoutMs: 180_000,
    });
    return { name: 'Neo4j', url, boltPort, stop: spawned.stop };
  } finally {
    await driver.close();
  }
}

async function answersQuery(driver: Driver): Promise<boolean> {
  // A plain auto-commit query: executeQuery would retry for half a minute before failing.
  const session = driver.session();
  try {
    const result = await session.run('RETURN 1 AS one');
    return result.records[0]?.get('one').toNumber() === 1;
  } finally {
    await session.close();
  }
}

function heapSize(): string {
  const heap = process.env.NEO4J_HEAP ?? '512m';
  if (!/^\d+[kmg]?$/i.test(heap)) {
    throw new Error(`NEO4J_HEAP must be a JVM heap size such as 512m or 1g, got '${heap}'`);
  }
  return heap;
}

/**
 * `NEO4J_JAVA_HOME`, else `JAVA_HOME` (as Maven uses it), else the java on PATH. Neo4j 5.26
 * supports Java 17 and 21; the former lets Neo4j keep those when JAVA_HOME names a newer JDK.
 */
function javaCommand(): string {
  const home = process.env.NEO4J_JAVA_HOME || process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

async function checkJava(): Promise<void> {
  let output: string;
  try {
    output = (await capture(javaCommand(), ['-version'])).output;
  } catch {
    throw new MissingPrerequisite(`java (${javaCommand()})`, javaHint);
  }
  // `openjdk version "17.0.15"`, or `"1.8.0_412"` for Java 8.
  const match = /version "(?:1\.)?(\d+)/.exec(output);
  const major = match ? Number(match[1]) : 0;
  if (major < 17) {
    throw new MissingPrerequisite(
      `Java 17 or newer (found ${match?.[0] ?? 'an unknown version'})`,
      javaHint,
    );
  }
}

async function checkMaven(): Promise<void> {
  try {
    const { code } = await capture('mvn', ['--version']);
    if (code === 0) return;
  } catch {
    // Not on PATH; reported below.
  }
  throw new MissingPrerequisite('mvn', mavenHint);
}

async function build(wanted: string): Promise<void> {
  // Built beside the current one and swapped in, so a half-done build is never taken for a
  // finished one and a running Neo4j keeps its jars until the swap.
  const staging = `${launcherDir}.building`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(provisionLog), { recursive: true });

  step('Neo4j 5.26 Community and its launcher from Maven Central (cached in ~/.m2)');
  const args = [
    '-B',
    '-q',
    '-f',
    path.join(launcherProject, 'pom.xml'),
    `-DbuildDir=${staging}`,
    'package',
  ];
  const { code } = await capture('mvn', args, provisionLog);
  if (code !== 0) {
    throw new Error(
      `mvn package failed (exit code ${code}); see ${provisionLog}:\n${tail(provisionLog)}`,
    );
  }

  fs.writeFileSync(path.join(staging, path.basename(sourcesStamp)), wanted);
  const previous = `${launcherDir}.previous`;
  fs.rmSync(previous, { recursive: true, force: true });
  if (fs.existsSync(launcherDir)) fs.renameSync(launcherDir, previous);
  fs.renameSync(staging, launcherDir);
  fs.rmSync(previous, { recursive: true, force: true });
}

function isBuilt(wanted: string): boolean {
  return fs.existsSync(launcherJar) && readIfExists(sourcesStamp) === wanted;
}

/**
 * A lock file holding its owner's pid. One left by a process that died is taken over, so a
 * killed build does not block the next one.
 */
async function acquireLock(file: string, timeoutMs = 15 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const owner = Number(readIfExists(file));
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (!told) {
      step(`Waiting for process ${owner}, which is building the Neo4j launcher`);
      told = true;
    }
    if (Date.now() > deadline) {
      throw new Error(`waited too long for the Neo4j launcher build of process ${owner} (${file})`);
    }
    await sleep(1_000);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs a command to completion; its output goes to `logFile` when given, else is returned. */
function capture(
  command: string,
  args: string[],
  logFile?: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const out = logFile ? fs.openSync(logFile, 'a') : undefined;
    const child = spawn(command, args, {
      stdio: ['ignore', out ?? 'pipe', out ?? 'pipe'],
    });
    if (out !== undefined) fs.closeSync(out);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, start: number): string {
  try {
    return fs.readFileSync(file).subarray(start).toString('utf8');
  } catch {
    return '';
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function tail(file: string, lines = 30): string {
  return (readIfExists(file) ?? '(no output)').split('\n').slice(-lines).join('\n');
}
