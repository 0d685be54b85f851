import {
  authenticate,
  createTokenVerifier,
  failRootFieldsOnBadToken,
  serveGraphQL,
  type Logger,
  type Running,
} from '@renku-supergraph/kit';

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
      host: config.host,
      ready: () => graph.ready(),
      context: async (base, req) => {
        const auth = await authenticate(verify, base.authorization);
        const user = auth.caller;
        const caller: Caller = user
          ? {
              kind: 'user',
              username: user.username,
              email: user.email ?? null,
              memberOf: await catalogue.membershipsOf(user.username),
            }
          : anonymous;
        return {
          ...base,
          authFailure: auth.authFailure,
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
