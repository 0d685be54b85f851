import {
  ConfigError,
  readBoolean,
  readObservabilityConfig,
  readPort,
  readString,
  readTokenVerifierOptions,
  readUrl,
  type ObservabilityConfig,
  type TokenVerifierOptions,
} from '@renku-supergraph/kit';

export interface Neo4jConfig {
  /** Bolt URL; default `bolt://127.0.0.1:7687`. */
  uri: string;
  /** Absent when the database runs without authentication (the local stack). */
  user?: string;
  password?: string;
}

export interface LineageConfig {
  /** Default 4003; 0 picks a free port. */
  port: number;
  /** Default `127.0.0.1`. */
  host: string;
  neo4j: Neo4jConfig;
  /** How callers' access tokens are checked (`KEYCLOAK_*`); default: the local Keycloak. */
  auth?: TokenVerifierOptions;
  /** Webhook ingestion; every setting has a default (`defaultWebhookConfig`). */
  webhooks?: Partial<WebhookConfig>;
  /**
   * `LOG_LEVEL`, `METRICS_*`, `OTEL_*` (kit's observability.ts); default: info, no metrics or
   * traces.
   */
  observability?: ObservabilityConfig;
}

export interface WebhookConfig {
  /** Process stored events in this process (`LINEAGE_WORKER`, default true). */
  worker: boolean;
  /** How often the worker looks for due events when nothing woke it. Default 1000 ms. */
  pollMs: number;
  /** A `processing` event older than this belongs to a worker that died. Default 10 minutes. */
  staleAfterMs: number;
  /** Attempts before an event is `failed`. Default 5. */
  maxAttempts: number;
  /** The first retry waits this long, each next one twice as long. Default 2000 ms. */
  retryBaseMs: number;
  /** The renku CLI for exporting pushed commits; absent: pushes wait for a CI export. */
  renkuCommand?: string;
  /**
   * Push events name a repository; only URLs starting with one of these are cloned. Default
   * none.
   */
  cloneUrlPrefixes: string[];
  /** The largest export a CI job may post. Default 20 MB. */
  maxExportBytes: number;
  /** Where project members are read on each push (`GITLAB_URL`); absent: membership not synced. */
  gitlab?: GitLabApiConfig;
  /**
   * The secret of GitLab's system hook (`GITLAB_SYSTEM_HOOK_TOKEN`): member events then bring
   * a project's new members at once. Absent: `/webhooks/gitlab/system` is not served.
   */
  systemHookToken?: string;
}

export interface GitLabApiConfig {
  /** GitLab's base URL, e.g. `https://gitlab.example.org` (no `/api/v4`). */
  url: string;
  /** A token that sees every activated project and its members (`GITLAB_SERVICE_TOKEN`). */
  serviceToken: string;
}

export const defaultWebhookConfig: WebhookConfig = {
  worker: true,
  pollMs: 1000,
  staleAfterMs: 600_000,
  maxAttempts: 5,
  retryBaseMs: 2000,
  cloneUrlPrefixes: [],
  maxExportBytes: 20 * 1024 * 1024,
};

export function readLineageConfig(env: Record<string, string | undefined>): LineageConfig {
  return {
    port: readPort(env, 'PORT', 4003),
    host: readString(env, 'HOST', '127.0.0.1'),
    neo4j: readNeo4jConfig(env),
    auth: readTokenVerifierOptions(env),
    webhooks: readWebhookConfig(env),
    observability: readObservabilityConfig(env, 'lineage'),
  };
}

export function readWebhookConfig(env: Record<string, string | undefined>): WebhookConfig {
  const d = defaultWebhookConfig;
  return {
    worker: readBoolean(env, 'LINEAGE_WORKER', d.worker),
    pollMs: readCount(env, 'LINEAGE_WORKER_POLL_MS', d.pollMs),
    staleAfterMs: readCount(env, 'LINEAGE_WORKER_STALE_MS', d.staleAfterMs),
    maxAttempts: readCount(env, 'LINEAGE_WORKER_MAX_ATTEMPTS', d.maxAttempts),
    retryBaseMs: readCount(env, 'LINEAGE_WORKER_RETRY_MS', d.retryBaseMs),
    renkuCommand: env.LINEAGE_RENKU_CLI || undefined,
    cloneUrlPrefixes: readCloneUrlPrefixes(env),
    maxExportBytes: readCount(env, 'LINEAGE_MAX_EXPORT_MB', 20) * 1024 * 1024,
    gitlab: env.GITLAB_URL
      ? { url: readUrl(env, 'GITLAB_URL'), serviceToken: readString(env, 'GITLAB_SERVICE_TOKEN') }
      : undefined,
    systemHookToken: readSystemHookToken(env),
  };
}

/**
 * Where pushes may be cloned from. Each ends with `/`: without it `https://gitlab.example.org`
 * would also let in `https://gitlab.example.org.elsewhere.example/`.
 */
function readCloneUrlPrefixes(env: Record<string, string | undefined>): string[] {
  const prefixes = (env.LINEAGE_CLONE_URL_PREFIXES ?? '')
    .split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== '');
  const open = prefixes.find((prefix) => !prefix.endsWith('/'));
  if (open !== undefined) {
    throw new ConfigError('LINEAGE_CLONE_URL_PREFIXES', `"${open}" must end with "/"`);
  }
  return prefixes;
}

/** A member event is only worth taking when GitLab can then be asked who the members are. */
function readSystemHookToken(env: Record<string, string | undefined>): string | undefined {
  const token = env.GITLAB_SYSTEM_HOOK_TOKEN;
  if (!token) return undefined;
  if (!env.GITLAB_URL) {
    throw new ConfigError('GITLAB_SYSTEM_HOOK_TOKEN', 'needs GITLAB_URL to read the members');
  }
  if (token.length < 16) {
    throw new ConfigError('GITLAB_SYSTEM_HOOK_TOKEN', 'must be at least 16 characters');
  }
  return token;
}

/** A whole number of at least 1. */
function readCount(env: Record<string, string | undefined>, name: string, fallback: number) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(name, `must be a whole number of at least 1, not "${raw}"`);
  }
  return value;
}

export function readNeo4jConfig(env: Record<string, string | undefined>): Neo4jConfig {
  const user = env.NEO4J_USER || undefined;
  const password = env.NEO4J_PASSWORD || undefined;
  if (user && !password) readString(env, 'NEO4J_PASSWORD');
  return { uri: readUrl(env, 'NEO4J_URI', 'bolt://127.0.0.1:7687'), user, password };
}
