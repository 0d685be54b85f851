#!/usr/bin/env node
// Prints the GitLab stand-in's seed entry of ada.analyst/bike-counts
// (stack/src/services/gitlab-standin/seed.json) from repository.bundle: every commit of master
// with the files it changes, so that the stand-in's commits, trees and files are the
// repository's own, the ones sessions check out and lineage names.
//   node demo/bike-counts/gitlab-seed.mjs > /tmp/entry.json
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const bundle = path.join(path.dirname(new URL(import.meta.url).pathname), 'repository.bundle');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bike-counts-seed-'));
const git = (...args) =>
  execFileSync('git', ['-C', dir, ...args], { maxBuffer: 64 << 20, encoding: 'buffer' });
const text = (...args) => git(...args).toString('utf8').trim();

try {
  execFileSync('git', ['clone', '--quiet', '--bare', bundle, dir]);
  const commits = text('rev-list', '--reverse', '--topo-order', 'master')
    .split('\n')
    .map((id) => {
      const [authoredDate, parents] = text('show', '-s', '--format=%aI%n%P', id).split('\n');
      const parentIds = parents ? parents.split(' ') : [];
      const files = {};
      // --no-renames: a rename is the deletion of one path and the addition of another.
      const changes = text(
        'diff-tree', '-r', '--no-commit-id', '--no-renames', '--name-status', '-z',
        ...(parentIds.length ? [parentIds[0], id] : ['--root', id]),
      ).split('\0').filter(Boolean);
      for (let i = 0; i < changes.length; i += 2) {
        const [status, file] = [changes[i], changes[i + 1]];
        if (status === 'D') files[file] = null;
        else files[file] = content(git('show', `${id}:${file}`));
      }
      return {
        id,
        parentIds,
        message: text('show', '-s', '--format=%B', id),
        author: 'ada.analyst',
        authoredDate: new Date(authoredDate).toISOString(),
        files,
      };
    });
  const entry = {
    id: 6,
    namespace: 'ada.analyst',
    path: 'bike-counts',
    name: 'bike-counts',
    description: 'Renku 2.x demo: bike counts of Zurich, ranked, with the commands that made them.',
    visibility: 'public',
    defaultBranch: 'master',
    topics: ['renku', 'mobility'],
    createdAt: commits[0].authoredDate,
    members: [{ userId: 1, accessLevel: 50 }],
    commits,
    branches: [{ name: 'master', commit: commits.at(-1).id, protected: true }],
  };
  process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Text where the bytes are UTF-8 text, else Base64. */
function content(bytes) {
  const asText = bytes.toString('utf8');
  return Buffer.from(asText, 'utf8').equals(bytes) && !asText.includes('\0')
    ? asText
    : { base64: bytes.toString('base64') };
}
