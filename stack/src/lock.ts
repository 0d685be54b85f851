import fs from 'node:fs';
import path from 'node:path';

import { sleep } from './process';

/**
 * Runs `work` while holding a lock file that names its owner's pid, so that
 * test files provisioning in parallel install once. A lock left by a process
 * that died is taken over.
 */
export async function exclusively(lockFile: string, work: () => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readIfExists(lockFile));
      if (holder > 0 && !alive(holder)) fs.rmSync(lockFile, { force: true });
      else await sleep(1000);
    }
  }
  try {
    await work();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/** Whether a process exists (EPERM: it does, but belongs to someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A file's text without surrounding white space, or undefined when it cannot be read. */
export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
