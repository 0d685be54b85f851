import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { backendError, type BaseContext } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';

/**
 * Calls one subgraph. The caller's credentials travel with the request (each
 * subgraph verifies them itself); a subgraph that cannot be reached becomes a
 * typed error naming it, so the rest of the answer still arrives.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<BaseContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    timeoutMs: number,
  ) {
    super({
      url,
      // Node's fetch keeps connections alive; the signal bounds each call.
      fetcher: (input, init) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) } as RequestInit),
    });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<BaseContext>) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }

  override async process(
    options: GraphQLDataSourceProcessOptions<BaseContext>,
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
