import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SessionFiles, folderName } from './session-files';

let dir: string;
let files: SessionFiles;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-files-'));
  files = new SessionFiles(dir);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeSessionFile(user: string, server: string, file: string, text: string): void {
  const folder = path.join(dir, folderName(user), folderName(server), '.session');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, file), text);
}

describe('SessionFiles', () => {
  it('reads the last lines of a log larger than one read', async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => `line ${index} ${'x'.repeat(40)}`);
    writeSessionFile('ada', 'big', 'server.log', `${lines.join('\n')}\n`);

    expect(await files.logTail('ada', 'big', 3)).toEqual({
      lines: lines.slice(-3),
      truncated: true,
    });
    expect((await files.logTail('ada', 'big', 5000)).lines).toEqual(lines.slice(-5000));
  });

  it('answers a short log whole, and no lines for a log not written yet', async () => {
    writeSessionFile('ada', 'short', 'server.log', 'one\ntwo\n');
    expect(await files.logTail('ada', 'short', 250)).toEqual({
      lines: ['one', 'two'],
      truncated: false,
    });
    expect(await files.logTail('ada', 'none', 250)).toEqual({ lines: [], truncated: false });
  });

  it('reads a recorded failure and ignores a broken record', async () => {
    writeSessionFile(
      'ada',
      'failed',
      'failure.json',
      '{"message":"no such image","step":"requested"}',
    );
    expect(await files.failure('ada', 'failed')).toEqual({
      message: 'no such image',
      step: 'requested',
    });
    writeSessionFile('ada', 'broken', 'failure.json', '{"mess');
    expect(await files.failure('ada', 'broken')).toBeUndefined();
  });

  it('names folders as the spawner does', () => {
    expect(folderName('ada.analyst')).toBe('ada.analyst');
    expect(folderName('.hidden')).toBe('_.hidden');
    expect(folderName('a/b c💥')).toBe('a_b_c_');
  });
});
