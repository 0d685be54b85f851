import {
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
  /** `LOG_LEVEL`, `METRICS_*`, `OTEL_*`: see kit's observability.ts. */
  observability: ObservabilityConfig;
}

export function readGitLabConfig(env: Env): GitLabSubgraphConfig {
  return {
    port: readPort(env, 'PORT', 4005),
    host: readString(env, 'HOST', '127.0.0.1'),
    gitlabUrl: readUrl(env, 'GITLAB_URL', 'http://127.0.0.1:8929'),
    observability: readObservabilityConfig(env, 'gitlab'),
  };
}
