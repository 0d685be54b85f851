import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { backendError, type BaseContext } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';

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
  ) {
    super({
      url,
      // Node's fetch keeps connections alive; the signal bounds each call.
      fetcher: (input, init) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) } as RequestInit),
    });
  }

  override async willSendRequest({
    request,
    context,
  }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
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
      return await super.process(options);
    } catch (error) {
      // A GraphQLError already carries a code (a 401 or 403 of the subgraph);
      // anything else is a connection failure whose text names internal hosts.
      if (error instanceof GraphQLError && error.extensions.code !== 'INTERNAL_SERVER_ERROR') {
        throw new GraphQLError(error.message, {
          extensions: { ...error.extensions, subgraph: this.subgraph },
        });
      }
      options.context.log?.warn({ err: error, subgraph: this.subgraph }, 'subgraph call failed');
      throw backendError(`the ${this.subgraph} subgraph`, error, { subgraph: this.subgraph });
    }
  }
}
