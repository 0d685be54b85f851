import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Service {
  name: string;
  /** The address clients use: a Bolt URI, an HTTP base URL. */
  url: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Output goes here; the last lines are quoted when the service fails. */
  logFile: string;
  /** Resolves once the service answers; polled until `timeoutMs`. */
  ready: () => Promise<boolean>;
  timeoutMs?: number;
}

export interface Spawned {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Every process group started here and not yet gone, for `stopEverySpawned`. */
const spawned = new Set<ChildProcess>();

/**
 * Stops every process group this process started, ready or still starting: Ctrl-C at the
 * terminal reaches only the foreground group, and each service runs in a group of its own.
 */
export async function stopEverySpawned(): Promise<void> {
  await Promise.all([...spawned].map(stopGroup));
}

/**
 * Starts a long-running process in its own process group and waits until it
 * is ready. Stopping sends SIGTERM to the whole group, then SIGKILL.
 */
export async function spawnService(options: SpawnOptions): Promise<Spawned> {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  spawned.add(child);

  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    spawned.delete(child);
    exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.once('error', (error) => {
    spawned.delete(child);
    exited = error.message;
  });

  const stop = () => stopGroup(child);
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (exited) break;
    if (await options.ready().catch(() => false)) return { child, stop };
    await sleep(250);
  }
  await stop();
  const reason = exited ? `exited (${exited})` : 'did not become ready in time';
  throw new Error(
    `${options.name} ${reason}; last lines of ${options.logFile}:\n${tail(options.logFile)}`,
  );
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group is already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/** True when an HTTP GET answers with a status below 500. */
export async function httpAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.status < 500;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}
