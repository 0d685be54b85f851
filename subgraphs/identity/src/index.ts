import {
  authenticate,
  createTokenVerifier,
  serveGraphQL,
  type Logger,
  type Running,
} from '@renku-supergraph/kit';

import type { IdentityConfig } from './config';
import { KeycloakAdmin } from './keycloak-admin';
import { createUserLoaders } from './loaders';
import type { IdentityContext } from './resolvers';
import { buildIdentitySchema } from './schema';

export { readIdentityConfig, type IdentityConfig, type KeycloakConfig } from './config';

/**
 * Serves the identity subgraph. Keycloak need not be up yet: `/health` answers
 * 503 and queries fail with BACKEND_UNAVAILABLE until it is.
 */
export async function startIdentitySubgraph(config: IdentityConfig, log: Logger): Promise<Running> {
  const { keycloak } = config;
  const admin = new KeycloakAdmin(keycloak, log);
  const verify = createTokenVerifier({
    issuer: keycloak.issuer,
    // Keys come from the internal address even when the public issuer is another.
    jwksUrl: `${keycloak.url}/realms/${encodeURIComponent(keycloak.realm)}/protocol/openid-connect/certs`,
    audience: keycloak.audience,
    clockToleranceSec: keycloak.clockToleranceSec,
  });

  try {
    await admin.ready();
  } catch (error) {
    // backendError keeps what went wrong in `cause`, which the client never sees but the log
    // should.
    const cause = (error as { cause?: unknown }).cause ?? error;
    log.warn({ err: cause, url: keycloak.url }, 'keycloak is not reachable yet');
  }

  return serveGraphQL<IdentityContext>({
    name: 'identity',
    schema: buildIdentitySchema(),
    log,
    port: config.port,
    observability: config.observability,
    host: config.host,
    ready: () => admin.ready(),
    context: async (base) => ({
      ...base,
      ...(await authenticate(verify, base.authorization)),
      admin,
      users: createUserLoaders(admin),
    }),
  });
}
