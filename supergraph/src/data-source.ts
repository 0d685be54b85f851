import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { backendError, requestIdHeader, type BaseContext } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';

import { sharingInFlight } from './in-flight';
import { callShareable, noRetries, retryingFetch, withRetries, type RetryPolicy } from './retry';

/** The header the gitlab subgraph reads the caller's GitLab token from. */
const gitlabTokenHeader = 'x-gitlab-token';

export interface GatewayContext extends BaseContext {
  /** The caller's GitLab token, asked for only when the gitlab subgraph is called. */
  gitlabToken?: () => Promise<string | undefined>;
}

/**
 * Calls one subgraph. The caller's credentials travel with the request (each
 * subgraph verifies them itself); a subgraph that cannot be reached becomes a
 * typed error naming it, so the rest of the answer still arrives.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    timeoutMs: number,
    /** Whether this subgraph is given the caller's GitLab token (GITLAB_TOKEN_SUBGRAPHS). */
    private readonly receivesGitLabToken = false,
    /** Queries only: a mutation is sent once (see retry.ts). */
    private readonly retry: RetryPolicy = noRetries,
    /** Identical queries in flight together share one call (see in-flight.ts). */
    shareInFlight = false,
  ) {
    // Node's fetch keeps connections alive; the timeout bounds each call, retries included.
    const send = retryingFetch(timeoutMs, retry);
    super({
      url,
      fetcher: (shareInFlight
        ? sharingInFlight(send, callShareable)
        : send) as RemoteGraphQLDataSource['fetcher'],
    });
  }

  override async willSendRequest({
    request,
    context,
  }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    if (context.requestId) request.http?.headers.set(requestIdHeader, context.requestId);
    // The GitLab token goes only where it is needed: by default the gitlab subgraph alone.
    if (this.receivesGitLabToken && context.gitlabToken) {
      const token = await context.gitlabToken();
      if (token) request.http?.headers.set(gitlabTokenHeader, token);
    }
  }

  override async process(
    options: GraphQLDataSourceProcessOptions<GatewayContext>,
  ): Promise<GatewayGraphQLResponse> {
    try {
      return await withRetries(
        options.request.query,
        this.retry,
        () => super.process(options),
        (attempt, reason) =>
          options.context.log?.warn({ subgraph: this.subgraph, attempt, reason }, 'retrying query'),
        // The reads a mutation's plan makes after its write are not shared (see retry.ts).
        'incomingRequestContext' in options &&
          options.incomingRequestContext.operation?.operation === 'mutation',
      );
    } catch (error) {
      // A subgraph's 401 or 403 arrives with its code; its `response` extension
      // (internal URL, raw body) stays here. Any other status, like a failure
      // to connect, means the subgraph is not answering.
      const code = error instanceof GraphQLError ? error.extensions.code : undefined;
      if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
        // `backend` names what failed before the call, such as Keycloak for the GitLab token.
        const backend = (error as GraphQLError).extensions.backend;
        throw new GraphQLError((error as GraphQLError).message, {
          extensions: { code, subgraph: this.subgraph, ...(backend ? { backend } : {}) },
        });
      }
      options.context.log?.warn({ err: error, subgraph: this.subgraph }, 'subgraph call failed');
      throw backendError(`the ${this.subgraph} subgraph`, error, { subgraph: this.subgraph });
    }
  }
}
