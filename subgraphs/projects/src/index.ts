import {
  authenticate,
  createTokenVerifier,
  failRootFieldsOnBadToken,
  serveGraphQL,
  type Logger,
  type Running,
} from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';

import { Catalogue } from './catalogue';
import type { ProjectsConfig } from './config';
import { Datasets } from './datasets';
import { createLoaders } from './loader';
import { GraphReader, createDriver } from './neo4j';
import type { ProjectsContext } from './resolvers';
import { buildProjectsSchema } from './schema';
import { SearchIndex } from './search';
import { ProjectUpdater } from './update';
import { anonymous, type Caller } from './visibility';

/** The request header that carries the caller's GitLab token from the gateway. */
export const gitlabTokenHeader = 'x-gitlab-token';

export { readProjectsConfig, type Neo4jConfig, type ProjectsConfig } from './config';

/**
 * Serves the projects subgraph. Neo4j need not be up yet: `/health` answers 503 and queries
 * fail with BACKEND_UNAVAILABLE until it is.
 */
export async function startProjectsSubgraph(config: ProjectsConfig, log: Logger): Promise<Running> {
  const driver = createDriver(config.neo4j);
  const graph = new GraphReader(driver, config.neo4j.database, log);
  const catalogue = new Catalogue(graph, log);
  const datasets = new Datasets(graph, log);
  const searchIndex = new SearchIndex(graph, log);
  const updater = new ProjectUpdater(graph, config.gitlab, log);
  const verify = createTokenVerifier(config.auth);

  try {
    await graph.ready();
  } catch (error) {
    log.warn({ err: error, uri: config.neo4j.uri }, 'neo4j is not reachable yet');
  }

  let running: Running;
  try {
    running = await serveGraphQL<ProjectsContext>({
      name: 'projects',
      // A bad token fails the root fields that ask (never HTTP 500, never anonymous).
      schema: failRootFieldsOnBadToken(buildProjectsSchema()),
      log,
      port: config.port,
      observability: config.observability,
      host: config.host,
      ready: () => graph.ready(),
      context: async (base, req) => {
        const auth = await authenticate(verify, base.authorization);
        const user = auth.caller;
        const memberships = user ? await membershipsOf(catalogue, user.username) : undefined;
        const caller: Caller = user
          ? {
              kind: 'user',
              username: user.username,
              email: user.email ?? null,
              memberOf: memberships?.paths ?? [],
            }
          : anonymous;
        return {
          ...base,
          // Without its memberships the caller is not known well enough to answer anything:
          // every root field fails with Neo4j's own error, as an anonymous caller's fields do
          // when they read Neo4j (see membershipsOf).
          authFailure: auth.authFailure ?? memberships?.failure,
          caller,
          catalogue,
          searchIndex,
          updater,
          gitlabToken: req.get(gitlabTokenHeader) || undefined,
          ...createLoaders(catalogue, datasets, caller),
        };
      },
    });
  } catch (error) {
    await driver.close();
    throw error;
  }

  return {
    ...running,
    stop: async () => {
      await running.stop();
      await driver.close();
    },
  };
}

/**
 * The projects a signed-in caller is a member of, or why they cannot be read. Thrown from the
 * context function, Neo4j's BACKEND_UNAVAILABLE would fail the whole request with HTTP 500,
 * which the gateway reports as the subgraph not answering; kept instead, it fails the fields.
 */
async function membershipsOf(
  catalogue: Catalogue,
  username: string,
): Promise<{ paths?: string[]; failure?: GraphQLError }> {
  try {
    return { paths: await catalogue.membershipsOf(username) };
  } catch (error) {
    // translateNeo4jError's typed errors; anything else is a bug and stays one.
    if (error instanceof GraphQLError) return { failure: error };
    throw error;
  }
}
