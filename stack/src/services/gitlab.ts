import { createLogger, type Logger } from '@renku-supergraph/kit';

import { assertPortFree } from '../ports';
import type { Service } from '../process';
import { step } from '../progress';
import { defaultSeedFile, loadSeed } from './gitlab-standin/seed';
import { serveGitLabStandin } from './gitlab-standin/server';

export { defaultSeedFile as gitLabSeedFile } from './gitlab-standin/seed';

/**
 * Nothing to download: the stand-in runs inside this process. Checks the seed file, so a
 * broken seed is reported before anything starts.
 */
export async function provisionGitLabStandin(seedFile: string = defaultSeedFile): Promise<void> {
  step(`GitLab stand-in: checking the seed ${seedFile}`);
  loadSeed(seedFile);
}

export interface GitLabStandinOptions {
  /** The port on 127.0.0.1. Default (or 0): a free port. */
  port?: number;
  /** The users, tokens and projects to serve. Default: `gitlab-standin/seed.json`. */
  seedFile?: string;
  /** Lifetime of the OAuth access tokens it issues (`/oauth/token`). Default 7200 s, as GitLab's. */
  accessTokenLifetimeSec?: number;
  /** Default: a `gitlab-standin` logger at `LOG_LEVEL`. */
  log?: Logger;
}

export interface GitLabStandin extends Service {
  /** `http://127.0.0.1:<port>`: GitLab's base URL, the value of the subgraph's GITLAB_URL. */
  url: string;
  port: number;
}

/**
 * Serves the GitLab stand-in (REST API v4: `/user`, `/projects/:id` with statistics and its
 * update, branches, commits, repository tree and files, members; OAuth 2 and OpenID Connect
 * under `/oauth`; see its README) in this process and resolves once it listens.
 */
export async function startGitLabStandin(
  options: GitLabStandinOptions = {},
): Promise<GitLabStandin> {
  if (options.port) await assertPortFree(options.port, 'the GitLab stand-in');
  const running = await serveGitLabStandin({
    port: options.port ?? 0,
    seedFile: options.seedFile,
    accessTokenLifetimeSec: options.accessTokenLifetimeSec,
    log: options.log ?? createLogger('gitlab-standin'),
  });
  return { name: 'gitlab', url: running.url, port: running.port, stop: running.stop };
}
