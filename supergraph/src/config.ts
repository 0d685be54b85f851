import {
  ConfigError,
  readBoolean,
  readInteger,
  readObservabilityConfig,
  readPort,
  readString,
  readTokenVerifierOptions,
  readUrl,
  type ObservabilityConfig,
  type UsageReportingOptions,
} from '@renku-supergraph/kit';
import net from 'node:net';
import path from 'node:path';

import type { QueryLimits } from './limits';
import type { RateLimitOptions } from './rate-limit';
import type { RetryPolicy } from './retry';
import type { TrustedDocumentOptions } from './trusted-documents';
import { readUsageReporting } from './usage-reporting';

export interface GatewayConfig {
  /** Who signs the tokens the gateway accepts (see TokenVerifierOptions). */
  auth: {
    issuer: string;
    /** The same realm at the address the gateway reaches Keycloak. */
    internalIssuer: string;
    jwksUrl: string;
    audience: string;
    clockToleranceSec: number;
    allowedClients?: string[];
  };
  /** Browser sign-in; absent when no client secret is configured. */
  browser?: {
    clientId: string;
    clientSecret: string;
    publicUrl: string;
    secureCookie: boolean;
    refreshMarginSec: number;
    /** Sessions in Redis when set, else in this process. */
    redisUrl?: string;
  };
  port: number;
  host: string;
  supergraphFile: string;
  /** Subgraph name -> URL, overriding the supergraph's routing URLs. */
  subgraphUrls: Record<string, string>;
  subgraphTimeoutMs: number;
  /** Subgraph name -> its own timeout, over subgraphTimeoutMs. */
  subgraphTimeouts: Record<string, number>;
  subgraphRetry: RetryPolicy;
  /** Identical queries in flight together share one subgraph call. */
  subgraphDeduplication: boolean;
  /** Origins allowed cross-origin (with credentials); none by default. */
  corsOrigins: string[];
  rateLimits: RateLimitOptions;
  /** Express's `trust proxy`: hops or proxy addresses whose X-Forwarded-For is believed. */
  trustProxy?: number | string[];
  /** Only the manifest's operations run; absent when TRUSTED_DOCUMENTS is not set. */
  trustedDocuments?: TrustedDocumentOptions;
  /** A persisted query manifest whose operations are planned at start; absent when off. */
  warmUpOperations?: string;
  /** The subgraphs that receive the caller's GitLab token (`x-gitlab-token`). */
  gitlabTokenSubgraphs: string[];
  /** Keycloak's identity provider whose stored token is the caller's GitLab token. */
  gitlabIdentityProvider: string;
  /** A userinfo claim to fall back on when no GitLab identity is linked; the local stack's. */
  gitlabTokenClaim?: string;
  limits: QueryLimits;
  /** Processes serving the port; more than 1 needs REDIS_URL for browser sessions. */
  workers: number;
  /** Largest request body, in Express's notation (`100kb`). */
  bodyLimit: string;
  production: boolean;
  /** Metrics and traces (METRICS_PORT, OTEL_EXPORTER_OTLP_ENDPOINT); see docs/observability.md. */
  observability: ObservabilityConfig;
  /** Apollo GraphOS usage reports; absent unless APOLLO_KEY and APOLLO_GRAPH_REF are both set. */
  usageReporting?: UsageReportingOptions;
}

type Env = Record<string, string | undefined>;

const defaultSupergraph = path.resolve(__dirname, '..', 'supergraph.graphql');
const defaultKnownOperations = path.resolve(__dirname, '..', 'known-operations.json');

/**
 * | setting | default | meaning |
 * | PORT | 4000 | the gateway's port |
 * | HOST | 127.0.0.1 | the address to listen on (0.0.0.0 in containers) |
 * | SUPERGRAPH_FILE | supergraph/supergraph.graphql | the composed supergraph |
 * | SUBGRAPH_<NAME>_URL | routing_url of rover.yaml | where a subgraph is |
 * | SUBGRAPH_TIMEOUT_MS | 10000 | how long one subgraph call may take, retries included |
 * | SUBGRAPH_<NAME>_TIMEOUT_MS | SUBGRAPH_TIMEOUT_MS | the same for one subgraph |
 * | SUBGRAPH_RETRIES | 2 | query retries (0 to 5) after a failed connection or a 502/503/504 |
 * | SUBGRAPH_RETRY_BACKOFF_MS | 50 | pause before the first retry; doubles each time, jittered |
 * | SUBGRAPH_DEDUPLICATION | true | identical queries in flight together share one subgraph call |
 * | CORS_ALLOWED_ORIGINS | none: same origin | origins (`https://app.example.org,...`) let in |
 * | RATE_LIMIT_PER_USER | 0: off | requests per minute per token subject |
 * | RATE_LIMIT_PER_ADDRESS | 0: off | requests per minute per client address (an IPv6 /64) |
 * | RATE_LIMIT_BURST | the per-minute value | requests one user or address may send at once |
 * | TRUST_PROXY | none | proxies whose X-Forwarded-For counts: hops, or `loopback,10.0.0.0/8` |
 * | TRUSTED_DOCUMENTS | none: any document | a persisted query manifest: only its operations run |
 * | TRUSTED_DOCUMENTS_ALLOW_FREE_FORM | false | run free-form documents beside the manifest |
 * | WARM_UP_OPERATIONS | known-operations.json | a manifest planned at start; empty: off |
 * | NODE_ENV | development | `production` turns off introspection and Sandbox |
 * | KEYCLOAK_URL | http://127.0.0.1:8080 | where the gateway reaches Keycloak |
 * | KEYCLOAK_REALM | renku | the realm |
 * | KEYCLOAK_ISSUER | <KEYCLOAK_URL>/realms/<realm> | the issuer tokens name (public address) |
 * | KEYCLOAK_JWKS_URL | <KEYCLOAK_URL>/realms/<realm>/protocol/openid-connect/certs | its keys |
 * | KEYCLOAK_AUDIENCE | renku-supergraph | the audience tokens must name |
 * | KEYCLOAK_CLOCK_TOLERANCE_SEC | 30 | clock skew allowed for `exp` and `nbf` |
 * | KEYCLOAK_GATEWAY_CLIENT_ID | renku-gateway | the client browsers sign in with |
 * | KEYCLOAK_GATEWAY_CLIENT_SECRET | none: browser sign-in off | its secret |
 * | GATEWAY_PUBLIC_URL | http://localhost:<PORT> | the gateway as browsers reach it |
 * | SESSION_COOKIE_SECURE | true | `false` only for plain HTTP under a name other than localhost |
 * | SESSION_REFRESH_MARGIN_SEC | 60 | refresh a session's access token this long before expiry |
 * | REDIS_URL | none: sessions and rate limits in memory | Redis shared by gateway replicas |
 * | GITLAB_TOKEN_SUBGRAPHS | gitlab,projects | subgraphs given the caller's GitLab token |
 * | KEYCLOAK_GITLAB_IDP | gitlab | the identity provider whose stored token is the GitLab token |
 * | GITLAB_TOKEN_USERINFO_CLAIM | none | fallback: a userinfo claim with the token (local stack) |
 * | MAX_QUERY_DEPTH | 15 | deepest nesting of fields in one operation |
 * | MAX_QUERY_ALIASES | 30 | aliased fields in one operation |
 * | MAX_QUERY_COST | 50000 | estimated fields one operation may resolve |
 * | MAX_BODY_SIZE | 100kb | largest request body |
 * | GATEWAY_WORKERS | 1 | processes sharing the port (one per core; see docs/benchmarks.md) |
 * | METRICS_PORT, METRICS_HOST, OTEL_* | off | metrics and traces: see kit's observability.ts |
 * | APOLLO_KEY, APOLLO_GRAPH_REF | none: no reports | GraphOS usage reporting, both or neither |
 * | APOLLO_USAGE_REPORTING_URL | Apollo's ingress | where usage reports go |
 */
export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  const subgraphUrls: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    const match = /^SUBGRAPH_([A-Z0-9_]+)_URL$/.exec(name);
    if (match) subgraphUrls[match[1].toLowerCase()] = readUrl(env, name);
  }

  const timeout = Number(readString(env, 'SUBGRAPH_TIMEOUT_MS', '10000'));
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new ConfigError('SUBGRAPH_TIMEOUT_MS', 'must be a positive number of milliseconds');
  }

  const subgraphTimeouts: Record<string, number> = {};
  for (const name of Object.keys(env)) {
    const match = /^SUBGRAPH_([A-Z0-9_]+)_TIMEOUT_MS$/.exec(name);
    if (match) subgraphTimeouts[match[1].toLowerCase()] = readInteger(env, name, timeout, 1);
  }
  const retries = readInteger(env, 'SUBGRAPH_RETRIES', 2, 0);
  if (retries > 5) throw new ConfigError('SUBGRAPH_RETRIES', 'must be at most 5');

  const keycloakUrl = readUrl(env, 'KEYCLOAK_URL', 'http://127.0.0.1:8080');
  const realm = readString(env, 'KEYCLOAK_REALM', 'renku');
  const internalIssuer = `${keycloakUrl}/realms/${encodeURIComponent(realm)}`;
  const port = readPort(env, 'PORT', 4000);
  const clientSecret = env.KEYCLOAK_GATEWAY_CLIENT_SECRET;

  return {
    auth: {
      issuer: readUrl(env, 'KEYCLOAK_ISSUER', internalIssuer),
      internalIssuer,
      jwksUrl: readUrl(env, 'KEYCLOAK_JWKS_URL', `${internalIssuer}/protocol/openid-connect/certs`),
      audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
      clockToleranceSec: readSeconds(env, 'KEYCLOAK_CLOCK_TOLERANCE_SEC', 30),
      allowedClients: readTokenVerifierOptions(env).allowedClients,
    },
    browser: clientSecret
      ? {
          clientId: readString(env, 'KEYCLOAK_GATEWAY_CLIENT_ID', 'renku-gateway'),
          clientSecret,
          publicUrl: readUrl(env, 'GATEWAY_PUBLIC_URL', `http://localhost:${port}`),
          secureCookie: readBoolean(env, 'SESSION_COOKIE_SECURE', true),
          refreshMarginSec: readSeconds(env, 'SESSION_REFRESH_MARGIN_SEC', 60),
          redisUrl: env.REDIS_URL ? readUrl(env, 'REDIS_URL') : undefined,
        }
      : undefined,
    port,
    host: readString(env, 'HOST', '127.0.0.1'),
    supergraphFile: readString(env, 'SUPERGRAPH_FILE', defaultSupergraph),
    subgraphUrls,
    subgraphTimeoutMs: timeout,
    subgraphTimeouts,
    subgraphRetry: { retries, backoffMs: readInteger(env, 'SUBGRAPH_RETRY_BACKOFF_MS', 50, 1) },
    subgraphDeduplication: readBoolean(env, 'SUBGRAPH_DEDUPLICATION', true),
    corsOrigins: readOrigins(env, 'CORS_ALLOWED_ORIGINS'),
    rateLimits: {
      perUser: readInteger(env, 'RATE_LIMIT_PER_USER', 0, 0),
      perAddress: readInteger(env, 'RATE_LIMIT_PER_ADDRESS', 0, 0),
      burst: readInteger(env, 'RATE_LIMIT_BURST', 0, 1) || undefined,
      redisUrl: env.REDIS_URL ? readUrl(env, 'REDIS_URL') : undefined,
    },
    trustProxy: readTrustProxy(env, 'TRUST_PROXY'),
    trustedDocuments: env.TRUSTED_DOCUMENTS
      ? {
          file: path.resolve(env.TRUSTED_DOCUMENTS),
          allowFreeForm: readBoolean(env, 'TRUSTED_DOCUMENTS_ALLOW_FREE_FORM', false),
        }
      : undefined,
    warmUpOperations:
      env.WARM_UP_OPERATIONS === undefined
        ? defaultKnownOperations
        : env.WARM_UP_OPERATIONS.trim()
          ? path.resolve(env.WARM_UP_OPERATIONS.trim())
          : undefined,
    // projects writes to GitLab too (updateProject), as Renku's knowledge graph did.
    gitlabTokenSubgraphs: readString(env, 'GITLAB_TOKEN_SUBGRAPHS', 'gitlab,projects')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
    gitlabIdentityProvider: readString(env, 'KEYCLOAK_GITLAB_IDP', 'gitlab'),
    gitlabTokenClaim: env.GITLAB_TOKEN_USERINFO_CLAIM || undefined,
    limits: {
      maxDepth: readInteger(env, 'MAX_QUERY_DEPTH', 15, 1),
      maxAliases: readInteger(env, 'MAX_QUERY_ALIASES', 30, 0),
      maxCost: readInteger(env, 'MAX_QUERY_COST', 50_000, 1),
    },
    bodyLimit: readBodySize(env, 'MAX_BODY_SIZE', '100kb'),
    workers: readInteger(env, 'GATEWAY_WORKERS', 1, 1),
    production: env.NODE_ENV === 'production' || readBoolean(env, 'PRODUCTION', false),
    observability: readObservabilityConfig(env, 'gateway'),
    usageReporting: readUsageReporting(env),
  };
}

function readBodySize(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!/^\d+(b|kb|mb)$/i.test(value)) {
    throw new ConfigError(name, `must be a size such as 100kb or 1mb, not "${value}"`);
  }
  return value;
}

const readSeconds = readInteger;

/** Exact origins, as browsers send them (`scheme://host[:port]`); `*` would admit every site. */
function readOrigins(env: Env, name: string): string[] {
  const origins = readString(env, name, '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError(
        name,
        `must list origins such as https://app.example.org, not "${origin}"`,
      );
    }
  }
  return origins;
}

/** A hop count, or proxy addresses in the forms Express's `trust proxy` takes. */
function readTrustProxy(env: Env, name: string): number | string[] | undefined {
  const raw = readString(env, name, '');
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return readInteger(env, name, 0, 1);

  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
    const family = net.isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (!named && (!family || !validBits || extra !== undefined)) {
      throw new ConfigError(
        name,
        `must be a number of proxies or a list of addresses such as loopback,10.0.0.0/8, not "${entry}"`,
      );
    }
  }
  return entries;
}
