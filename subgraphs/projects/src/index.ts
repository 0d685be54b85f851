import { serveGraphQL, type Logger, type Running } from '@renku-supergraph/kit';

import { Catalogue } from './catalogue';
import type { ProjectsConfig } from './config';
import { createProjectLoader } from './loader';
import { GraphReader, createDriver } from './neo4j';
import type { ProjectsContext } from './resolvers';
import { buildProjectsSchema } from './schema';
import { anonymous } from './visibility';

export { readProjectsConfig, type Neo4jConfig, type ProjectsConfig } from './config';

/**
 * Serves the projects subgraph. Neo4j need not be up yet: `/health` answers 503 and queries
 * fail with BACKEND_UNAVAILABLE until it is.
 */
export async function startProjectsSubgraph(config: ProjectsConfig, log: Logger): Promise<Running> {
  const driver = createDriver(config.neo4j);
  const graph = new GraphReader(driver, config.neo4j.database, log);
  const catalogue = new Catalogue(graph, log);

  try {
    await graph.ready();
  } catch (error) {
    log.warn({ err: error, uri: config.neo4j.uri }, 'neo4j is not reachable yet');
  }

  let running: Running;
  try {
    running = await serveGraphQL<ProjectsContext>({
      name: 'projects',
      schema: buildProjectsSchema(),
      log,
      port: config.port,
      host: config.host,
      ready: () => graph.ready(),
      context: (base) => {
        // TODO(identity): read the caller from the verified token in base.authorization.
        const caller = anonymous;
        return { ...base, caller, catalogue, projects: createProjectLoader(catalogue, caller) };
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
