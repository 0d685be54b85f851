import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { GitLabApiConfig } from '../config';
import { readRenkuExport, type RenkuExport } from '../ingest/read';
import { ExportError, PermanentError } from './export-errors';
import { gitCredentialEnv, inheritedEnv } from './git-credentials';
import { fillVersionCommits } from './version-commits';

export { ExportError, PermanentError } from './export-errors';

export interface CommitExporter {
  /**
   * The full renku graph of the repository at that commit, read into records, with the commit
   * that made each run and file version where the export itself names none (renku 2.x).
   */
  exportCommit(gitUrl: string, commit: string): Promise<RenkuExport>;
}

export interface RenkuExporterOptions {
  /** The `renku` executable (renku 2.x). */
  renkuCommand: string;
  /** Only repositories whose URL starts with one of these are cloned. */
  allowedUrlPrefixes: string[];
  /** Per command; a clone of a big repository takes a while. Default 5 minutes. */
  timeoutMs?: number;
  /** GitLab and its service token: repositories on GitLab are cloned with it (private ones). */
  gitlab?: GitLabApiConfig;
}

/**
 * Exports a commit the way a CI job would: clone, check out, `renku graph export --full`, in a
 * temporary folder that is removed afterwards. Unlike a CI job's export, it then asks the
 * clone's history which commit made each 2.x run and file version (`version-commits.ts`).
 * The URL comes from an authenticated push, but is still limited to known prefixes: the secret
 * proves who sent the event, not that the URL inside is one we should fetch.
 */
export function renkuExporter(options: RenkuExporterOptions): CommitExporter {
  const timeoutMs = options.timeoutMs ?? 300_000;
  return {
    async exportCommit(gitUrl, commit) {
      if (!options.allowedUrlPrefixes.some((prefix) => gitUrl.startsWith(prefix))) {
        throw new PermanentError(`cloning from "${gitUrl}" is not allowed here`);
      }
      if (!/^[0-9a-f]{7,64}$/.test(commit)) {
        throw new PermanentError(`"${commit}" is not a commit id`);
      }
      const dir = await mkdtemp(path.join(os.tmpdir(), 'lineage-export-'));
      try {
        const repo = path.join(dir, 'repo');
        // HOME keeps renku's and git's user configuration out of the service's own home.
        const env = {
          ...inheritedEnv(process.env),
          HOME: dir,
          GIT_TERMINAL_PROMPT: '0',
          GIT_LFS_SKIP_SMUDGE: '1',
          PATH: `${path.dirname(options.renkuCommand)}${path.delimiter}${process.env.PATH ?? ''}`,
        };
        // Only the clone talks to GitLab; renku and the history walk read the clone.
        const cloneEnv = { ...env, ...gitCredentialEnv(gitUrl, options.gitlab) };
        await run('git', ['clone', '--quiet', '--no-checkout', '--', gitUrl, repo], dir, cloneEnv);
        await run('git', ['checkout', '--quiet', commit], repo, env);
        const args = ['graph', 'export', '--format', 'jsonld', '--full'];
        const output = await run(options.renkuCommand, args, repo, env);
        let document: unknown;
        try {
          document = JSON.parse(output);
        } catch {
          throw new PermanentError('renku graph export did not print JSON');
        }
        const read = await readRenkuExport(document);
        await fillVersionCommits(read.provenance, repo, commit, { env, timeoutMs });
        return read;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }

      function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
        return runCommand(command, args, cwd, env, timeoutMs);
      }
    },
  };
}

function runCommand(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ExportError(`${path.basename(command)} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      const last = stderr.trim().split('\n').slice(-3).join(' / ');
      const how = signal ? `was stopped (${signal})` : `exited with ${code}`;
      reject(new ExportError(`${path.basename(command)} ${args[0]} ${how}: ${last}`));
    });
  });
}
