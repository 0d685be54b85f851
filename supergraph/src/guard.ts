import type { Express } from 'express';

import type { GatewayConfig } from './config';
import { corsAllowList } from './cors';
import type { RateLimits } from './rate-limit';
import { trustedDocuments, type TrustedDocuments } from './trusted-documents';

/**
 * What stands in front of the GraphQL endpoint, cheapest first: CORS (a
 * preflight ends here), the limit per address (before a byte of the body is
 * read), then the trusted documents check. The limit per user comes later,
 * once the token is verified (see the gateway's context).
 */
export function guardGraphQL(
  app: Express,
  config: GatewayConfig,
  limits: RateLimits,
  documents: TrustedDocuments | undefined,
): void {
  // Without it req.ip is the socket's peer; X-Forwarded-For is anyone's to write.
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);

  app.use('/graphql', corsAllowList(config.corsOrigins), limits.byAddress());
  if (documents && config.trustedDocuments) {
    app.use(
      '/graphql',
      trustedDocuments(documents, config.trustedDocuments.allowFreeForm, config.bodyLimit),
    );
  }
}
