import { createLogger, type Running } from '@renku-supergraph/kit';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { startLineageSubgraph } from '../../subgraphs/lineage/src/index';

const log = createLogger('lineage-test', 'silent');

let dataDir: string;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let running: Running;

beforeAll(async () => {
  await provisionNeo4j();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'lineage-down-'));
  database = await startNeo4j({ dataDir });
  running = await startLineageSubgraph(
    { port: 0, host: '127.0.0.1', neo4j: { uri: database.url } },
    log,
  );
  await database.stop();
});

afterAll(async () => {
  await running?.stop();
  await database?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the lineage subgraph without Neo4j', () => {
  it('answers BACKEND_UNAVAILABLE without the driver text', async () => {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ lineage(projectPath: "a/b", filePath: "c") { nodes { id } } }',
      }),
    });
    const body = await response.json();
    expect(body.errors[0]).toMatchObject({
      message: 'neo4j is not answering; try again shortly',
      extensions: { code: 'BACKEND_UNAVAILABLE', backend: 'neo4j', subgraph: 'lineage' },
    });
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:\d+/);
  });

  it('reports itself unavailable on /health', async () => {
    const response = await fetch(running.url.replace(/\/graphql$/, '/health'));
    expect(response.status).toBe(503);
  });
});
