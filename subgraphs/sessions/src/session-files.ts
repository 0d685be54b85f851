import fs from 'node:fs/promises';
import path from 'node:path';

/** Why a session failed, as the spawner recorded it in the session's folder. */
export interface RecordedFailure {
  message: string;
  /** The start step that failed, or `running` for a server that ended on its own. */
  step: string;
}

export interface LogTail {
  lines: string[];
  /** Earlier lines exist that were left out. */
  truncated: boolean;
}

/** The most a log answer reads from the end of a file, whatever the number of lines. */
const maxTailBytes = 4 * 1024 * 1024;
const chunkBytes = 64 * 1024;

/**
 * The files the hub's spawner keeps in `<dir>/<user>/<server>/.session/` (see
 * stack/jupyterhub/renku_spawner.py): `server.log` and `failure.json`.
 */
export class SessionFiles {
  constructor(private readonly dir: string) {}

  async failure(username: string, name: string): Promise<RecordedFailure | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file(username, name, 'failure.json'), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const recorded = JSON.parse(text) as Partial<RecordedFailure>;
      if (typeof recorded.message !== 'string') return undefined;
      return { message: recorded.message, step: String(recorded.step ?? '') };
    } catch {
      // Half written while we read it; the next read sees all of it.
      return undefined;
    }
  }

  /** The last `count` lines of the server's log; none when it has not written one yet. */
  async logTail(username: string, name: string, count: number): Promise<LogTail> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file(username, name, 'server.log'), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { lines: [], truncated: false };
      throw error;
    }
    try {
      return await tail(handle, count);
    } finally {
      await handle.close();
    }
  }

  private file(username: string, name: string, file: string): string {
    return path.join(this.dir, folderName(username), folderName(name), '.session', file);
  }
}

/** Reads backwards until `count` whole lines are in, or the file or the byte budget ends. */
async function tail(handle: fs.FileHandle, count: number): Promise<LogTail> {
  const { size } = await handle.stat();
  let position = size;
  let text = '';
  while (position > 0 && size - position < maxTailBytes) {
    const length = Math.min(chunkBytes, position);
    position -= length;
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, position);
    text = buffer.toString('utf8') + text;
    // One more newline than lines wanted: the first line kept is then whole.
    if (newlines(text) > count) break;
  }
  const lines = text.replace(/\n$/, '').split('\n');
  if (text === '') return { lines: [], truncated: false };
  const kept = lines.slice(-count);
  return { lines: kept, truncated: position > 0 || kept.length < lines.length };
}

function newlines(text: string): number {
  let found = 0;
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) found++;
  return found;
}

/** The spawner's `folder_name`: one safe path segment for a user or server name. */
export function folderName(name: string): string {
  const safe = (name || '_default').replace(/[^A-Za-z0-9._@-]/gu, '_');
  return safe.startsWith('.') ? `_${safe}` : safe;
}
