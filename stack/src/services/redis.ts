import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import { cacheDir } from '../paths';
import { assertPortFree, freePort } from '../ports';
import { spawnService, type Service } from '../process';
import { MissingPrerequisite, step } from '../progress';

const run = promisify(execFile);

export interface RedisOptions {
  /** Default: a free port. */
  port?: number;
  /**
   * This instance's working folder (dump, log). Default: a fresh folder under the cache,
   * removed on stop.
   */
  dataDir?: string;
  /** Default: `redis.log` in the data folder. */
  logFile?: string;
}

export interface RedisServer extends Service {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
}

/** Debian's `redis-server`; installed with apt-get when missing and we are root. */
export async function provisionRedis(): Promise<void> {
  if (await hasRedisServer()) return;
  if (process.getuid?.() !== 0) {
    throw new MissingPrerequisite(
      'redis-server',
      'install it (e.g. sudo apt-get install redis-server); the gateway keeps shared sessions in it',
    );
  }

  step("Installing Debian's redis-server with apt-get");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const options = { env, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 };
  // Another apt-get (a second test worker installing the same package) holds dpkg's lock:
  // wait for it rather than fail.
  const waitForLock = ['-o', 'DPkg::Lock::Timeout=600'];
  const install = [...waitForLock, 'install', '-y', '--no-install-recommends', 'redis-server'];
  try {
    await run('apt-get', install, options);
  } catch {
    // A fresh machine may not know the package yet.
    await run('apt-get', [...waitForLock, 'update'], options);
    await run('apt-get', install, options);
  }
  if (!(await hasRedisServer())) {
    throw new MissingPrerequisite('redis-server', 'apt-get ran, but redis-server is not on PATH');
  }
}

/**
 * Starts a Redis of its own on 127.0.0.1 without persistence: sessions are
 * disposable, and nothing of one instance is left for the next.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  await provisionRedis();

  const port = options.port || (await freePort());
  await assertPortFree(port, 'Redis');
  const ownDataDir = options.dataDir === undefined;
  const dataDir =
    options.dataDir ?? fs.mkdtempSync(path.join(ensureDir(path.join(cacheDir, 'run')), 'redis-'));
  const logFile = options.logFile ?? path.join(dataDir, 'redis.log');

  step(`Starting Redis on 127.0.0.1:${port}`);
  const spawned = await spawnService({
    name: 'Redis',
    command: 'redis-server',
    args: [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dataDir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    cwd: dataDir,
    logFile,
    ready: () => answersPing(port),
    timeoutMs: 30_000,
  }).catch((error: unknown) => {
    if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });

  return {
    name: 'Redis',
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await spawned.stop();
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function hasRedisServer(): Promise<boolean> {
  try {
    await run('redis-server', ['--version'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** Speaks just enough of Redis's protocol to see it answer. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
