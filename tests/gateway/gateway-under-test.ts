import { createLogger, type Running } from '@renku-supergraph/kit';

import { readGatewayConfig, startGateway } from '../../supergraph/src';

/**
 * The real gateway over the committed supergraph, its subgraphs pointed at a
 * closed port: enough for what is decided before any subgraph is asked
 * (`{ __typename }` is answered by the gateway itself).
 */
export function startLoneGateway(env: Record<string, string> = {}): Promise<Running> {
  const subgraphs = ['identity', 'projects', 'lineage', 'sessions', 'gitlab'];
  const urls = Object.fromEntries(
    subgraphs.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, 'http://127.0.0.1:9/graphql']),
  );
  return startGateway(
    readGatewayConfig({ ...urls, PORT: '0', ...env }),
    createLogger('gateway', 'silent'),
  );
}

/** A POST of `{ __typename }`, the cheapest operation there is. */
export function typename(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
}
