import { ConfigError, readBoolean, readPort, readString, readUrl } from '@renku-supergraph/kit';
import path from 'node:path';

export interface GatewayConfig {
  /** Who signs the tokens the gateway accepts (see TokenVerifierOptions). */
  auth: { issuer: string; jwksUrl?: string; audience: string };
  port: number;
  host: string;
  supergraphFile: string;
  /** Subgraph name -> URL, overriding the supergraph's routing URLs. */
  subgraphUrls: Record<string, string>;
  subgraphTimeoutMs: number;
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
 * | KEYCLOAK_ISSUER | http://127.0.0.1:8080/realms/renku | the issuer tokens must name |
 * | KEYCLOAK_JWKS_URL | <issuer>/protocol/openid-connect/certs | where its keys are |
 * | KEYCLOAK_AUDIENCE | renku-supergraph | the audience tokens must name |
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

  const jwksUrl = env.KEYCLOAK_JWKS_URL ? readUrl(env, 'KEYCLOAK_JWKS_URL') : undefined;
  return {
    auth: {
      issuer: readUrl(env, 'KEYCLOAK_ISSUER', 'http://127.0.0.1:8080/realms/renku'),
      jwksUrl,
      audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
    },
    port: readPort(env, 'PORT', 4000),
    host: readString(env, 'HOST', '127.0.0.1'),
    supergraphFile: readString(env, 'SUPERGRAPH_FILE', defaultSupergraph),
    subgraphUrls,
    subgraphTimeoutMs: timeout,
    production: env.NODE_ENV === 'production' || readBoolean(env, 'PRODUCTION', false),
  };
}
