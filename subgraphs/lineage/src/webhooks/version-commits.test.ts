import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { FileRecord, Provenance, RunRecord } from '../ingest/provenance';
import { ExportError } from './export-errors';
import { fillVersionCommits } from './version-commits';

let dir: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  }).trim();
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
};
const commit = (message: string) => {
  git('add', '--all');
  git('-c', 'user.name=Ada', '-c', 'user.email=ada@example.org', 'commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
};
/** Where renku 2.x stores an activity: under the SHA3-256 of its id. */
const activityFile = (id: string) => {
  const oid = createHash('sha3-256').update(id).digest('hex');
  return `.renku/metadata/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
};
const blob = (rev: string, file: string) => git('rev-parse', `${rev}:${file}`);

const odd = 'data/a b\tc.csv';
let commits: { first: string; second: string; third: string };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'version-commits-'));
  git('init', '-q', '-b', 'master');
  write(odd, 'x\n');
  write(activityFile('/activities/first'), 'run 1');
  const first = commit('first');
  write(odd, 'y\n');
  write('out/part.csv', 'z\n');
  // renku rewrites an activity's file when it changes; its run is still the first commit's.
  write(activityFile('/activities/first'), 'run 1, changed');
  const second = commit('second');
  write(odd, 'x\n');
  fs.rmSync(path.join(dir, 'out'), { recursive: true });
  const third = commit('third: x again, out removed');
  commits = { first, second, third };
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function provenance(files: Partial<FileRecord>[], runs: Partial<RunRecord>[]): Provenance {
  return {
    files: files.map((file, index) => ({
      id: `https://localhost/entities/${index}`,
      path: '',
      commit: null,
      checksum: null,
      isFolder: false,
      ...file,
    })),
    runs: runs.map((run) => ({
      id: '',
      startedAt: null,
      endedAt: null,
      commit: null,
      commandLine: '',
      planId: null,
      personIds: [],
      values: [],
      ...run,
    })),
    plans: [],
    arguments: [],
    usages: [],
    generations: [
      { runId: 'https://localhost/activities/second', fileId: 'https://localhost/entities/1' },
    ].map((link) => ({ ...link, role: null })),
    firstActivityAt: null,
    lastActivityAt: null,
  };
}

const options = () => ({ env: { ...process.env, HOME: os.tmpdir() }, timeoutMs: 30_000 });

describe('the commits of renku 2.x runs and file versions, from the repository', () => {
  it('names the latest commit that wrote each version, folders by their tree', async () => {
    const read = provenance(
      [
        { path: odd, checksum: blob(commits.first, odd) },
        { path: odd, checksum: blob(commits.second, odd) },
        { path: 'out', checksum: blob(commits.second, 'out'), isFolder: true },
        { path: odd, checksum: '0'.repeat(40) },
      ],
      [],
    );
    await fillVersionCommits(read, dir, commits.third, options());
    expect(read.files.map((file) => file.commit)).toEqual([
      commits.third,
      commits.second,
      commits.second,
      null,
    ]);
  });

  it("names the first commit's versions whatever git's configuration says (#6)", async () => {
    const read = provenance([{ path: odd, checksum: blob(commits.first, odd) }], []);
    const env = {
      ...options().env,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'log.showRoot',
      GIT_CONFIG_VALUE_0: 'false',
    };
    await fillVersionCommits(read, dir, commits.second, { ...options(), env });
    expect(read.files[0].commit).toBe(commits.first);
  });

  it('looks back from the exported commit only', async () => {
    const read = provenance([{ path: odd, checksum: blob(commits.first, odd) }], []);
    await fillVersionCommits(read, dir, commits.second, options());
    expect(read.files[0].commit).toBe(commits.first);
  });

  it("names the commit that added a run's activity, else the commit of its outputs", async () => {
    const read = provenance(
      [
        { path: odd, checksum: blob(commits.first, odd) },
        { path: odd, checksum: blob(commits.second, odd) },
      ],
      [
        { id: 'https://renku.example.org/activities/first' },
        { id: 'https://localhost/activities/second' },
        { id: 'https://localhost/activities/unknown' },
      ],
    );
    await fillVersionCommits(read, dir, commits.third, options());
    expect(read.runs.map((run) => run.commit)).toEqual([commits.first, commits.second, null]);
  });

  it('keeps the commits an export names itself (renku 0.x)', async () => {
    const read = provenance(
      [{ path: odd, checksum: blob(commits.first, odd), commit: 'abc' }],
      [{ id: 'https://localhost/activities/first', commit: 'def' }],
    );
    await fillVersionCommits(read, dir, commits.third, options());
    expect([read.files[0].commit, read.runs[0].commit]).toEqual(['abc', 'def']);
  });

  it('takes a path that begins with a newline as it is (#6)', async () => {
    // Another repository: `lead` written first, then `\nlead` with the same content.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'version-commits-newline-'));
    const run = (...args: string[]) =>
      execFileSync('git', ['-C', other, ...args], { encoding: 'utf8', env: options().env }).trim();
    const commitAll = (message: string) => {
      run('add', '--all');
      run('-c', 'user.name=Ada', '-c', 'user.email=ada@example.org', 'commit', '-qm', message);
      return run('rev-parse', 'HEAD');
    };
    try {
      run('init', '-q', '-b', 'master');
      fs.writeFileSync(path.join(other, 'lead'), 'same\n');
      const plain = commitAll('lead');
      fs.writeFileSync(path.join(other, '\nlead'), 'same\n');
      const newline = commitAll('newline lead');
      const checksum = run('rev-parse', `${plain}:lead`);

      const read = provenance(
        [
          { path: 'lead', checksum },
          { path: '\nlead', checksum },
        ],
        [],
      );
      await fillVersionCommits(read, other, newline, options());
      expect(read.files.map((file) => file.commit)).toEqual([plain, newline]);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it("fails with git's message for a commit the repository does not have", async () => {
    const read = provenance([{ path: odd, checksum: 'a'.repeat(40) }], []);
    const missing = fillVersionCommits(read, dir, 'b'.repeat(40), options());
    await expect(missing).rejects.toThrow(ExportError);
    await expect(missing).rejects.toThrow(/^git log exited with 128: /);
  });
});
