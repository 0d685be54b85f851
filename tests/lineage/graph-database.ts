import type { Logger } from '@renku-supergraph/kit';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';

import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { applyGraphSchema } from '../../subgraphs/lineage/src/graph-schema';

export interface GraphDatabase {
  url: string;
  driver: Driver;
  /** Closes the driver, stops Neo4j and removes its folder. */
  stop(): Promise<void>;
}

/** A Neo4j of the test's own, in a temporary folder, with the graph schema applied. */
export async function startGraphDatabase(name: string, log: Logger): Promise<GraphDatabase> {
  await provisionNeo4j();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `${name}-`));
  const database = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });
  const driver = neo4j.driver(database.url);
  await applyGraphSchema(driver, log);
  return {
    url: database.url,
    driver,
    stop: async () => {
      await driver.close();
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
