import {
  readInteger,
  readObservabilityConfig,
  readPort,
  readString,
  readUrl,
  type ObservabilityConfig,
} from '@renku-supergraph/kit';

type Env = Record<string, string | undefined>;

export interface GitLabSubgraphConfig {
  /** `PORT`, default 4005; 0 picks a free port. */
  port: number;
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  /**
   * `GITLAB_URL`, default `http://127.0.0.1:8929` (the local stand-in): GitLab's base URL,
   * without `/api/v4`.
   */
  gitlabUrl: string;
  /**
   * `GITLAB_REPOSITORIES_PER_REQUEST`, default 1: of how many projects one request may read
   * branches, commits, folders and files. GitLab answers those for one project per call and
   * has no call for several, so each project more is one GitLab call more
   * (`repository-reads.ts`).
   */
  repositoriesPerRequest: number;
  /** `LOG_LEVEL`, `METRICS_*`, `OTEL_*`: see kit's observability.ts. */
  observability: ObservabilityConfig;
}

export function readGitLabConfig(env: Env): GitLabSubgraphConfig {
  return {
    port: readPort(env, 'PORT', 4005),
    host: readString(env, 'HOST', '127.0.0.1'),
    gitlabUrl: readUrl(env, 'GITLAB_URL', 'http://127.0.0.1:8929'),
    repositoriesPerRequest: readInteger(env, 'GITLAB_REPOSITORIES_PER_REQUEST', 1, 1),
    observability: readObservabilityConfig(env, 'gitlab'),
  };
}
