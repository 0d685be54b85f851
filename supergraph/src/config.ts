import {
  ConfigError,
  readBoolean,
  readInteger,
  readPort,
  readString,
  readTokenVerifierOptions,
  readUrl,
} from '@renku-supergraph/kit';
import path from 'node:path';

import type { QueryLimits } from './limits';

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
  /** The subgraphs that receive the caller's GitLab token (`x-gitlab-token`). */
  gitlabTokenSubgraphs: string[];
  limits: QueryLimits;
  /** Processes serving the port; more than 1 needs REDIS_URL for browser sessions. */
  workers: number;
  /** Largest request body, in Express's notation (`100kb`). */
  bodyLimit: string;
  production: boolean;
}

type Env = Record<string, string | undefined>;

const defaultSupergraph = path.resolve(__dirname, '..', 'supergraph.graphql');

/**
 * | setting | default | meaning |
 * | PORT | 4000 | the gateway's port |
 * | HOST | 127.0.0.1 | the address to listen on (0.0.0.0 in containers) |
 * | SUPERGRAPH_FILE | supergraph/supergraph.graphql | the composed supergraph |
 * | SUBGRAPH_<NAME>_URL | routing_url of rover.yaml | where a subgraph is |
 * | SUBGRAPH_TIMEOUT_MS | 10000 | how long one subgraph call may take |
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
 * | REDIS_URL | none: sessions in memory | Redis shared by gateway replicas |
 * | GITLAB_TOKEN_SUBGRAPHS | gitlab,projects | subgraphs given the caller's GitLab token |
 * | MAX_QUERY_DEPTH | 15 | deepest nesting of fields in one operation |
 * | MAX_QUERY_ALIASES | 30 | aliased fields in one operation |
 * | MAX_QUERY_COST | 50000 | estimated fields one operation may resolve |
 * | MAX_BODY_SIZE | 100kb | largest request body |
 * | GATEWAY_WORKERS | 1 | processes sharing the port (one per core; see docs/benchmarks.md) |
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
    // projects writes to GitLab too (updateProject), as Renku's knowledge graph did.
    gitlabTokenSubgraphs: readString(env, 'GITLAB_TOKEN_SUBGRAPHS', 'gitlab,projects')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
    limits: {
      maxDepth: readInteger(env, 'MAX_QUERY_DEPTH', 15, 1),
      maxAliases: readInteger(env, 'MAX_QUERY_ALIASES', 30, 0),
      maxCost: readInteger(env, 'MAX_QUERY_COST', 50_000, 1),
    },
    bodyLimit: readBodySize(env, 'MAX_BODY_SIZE', '100kb'),
    workers: readInteger(env, 'GATEWAY_WORKERS', 1, 1),
    production: env.NODE_ENV === 'production' || readBoolean(env, 'PRODUCTION', false),
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
