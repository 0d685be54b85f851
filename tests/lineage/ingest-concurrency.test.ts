import { createLogger } from '@renku-supergraph/kit';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Driver, Record as Neo4jRecord } from 'neo4j-driver';

import { ingestDocument } from '../../subgraphs/lineage/src/ingest/ingest';
import { startGraphDatabase, type GraphDatabase } from './graph-database';

// Ingestion creates the runs and files its look-up did not find instead of merging them. These
// tests hold it to what merging guaranteed: writers of the same document never duplicate a
// node or a relationship, and none of them fails.

const log = createLogger('ingest-concurrency-test', 'warn');
const repoRoot = path.resolve(__dirname, '../..');
const tutorial = JSON.parse(
  readFileSync(path.join(repoRoot, 'demo/tutorial-zhbikes/source.ld.json'), 'utf8'),
) as unknown;

let database: GraphDatabase;
let driver: Driver;

beforeAll(async () => {
  database = await startGraphDatabase('ingest-concurrency-test', log);
  driver = database.driver;
});

afterAll(async () => {
  await database?.stop();
});

let projects = 0;
function newProject(): string {
  projects += 1;
  return `tester/concurrent-${projects}-${Date.now()}`;
}

async function read<T>(cypher: string, params: object, pick: (record: Neo4jRecord) => T) {
  const session = driver.session();
  try {
    const result = await session.run(cypher, params);
    return result.records.map(pick);
  } finally {
    await session.close();
  }
}

/** Nodes by label and relationships by type of one project, as sorted `name count` lines. */
async function shapeOf(projectPath: string): Promise<string[]> {
  return read(
    `MATCH (n {projectPath: $projectPath})
     RETURN labels(n)[0] AS name, count(*) AS count
     UNION ALL
     MATCH (n {projectPath: $projectPath})-[r]->(m)
     RETURN type(r) + ' to ' + labels(m)[0] AS name, count(*) AS count`,
    { projectPath },
    (record) => `${record.get('name')} ${record.get('count').toNumber()}`,
  ).then((lines) => lines.sort());
}

/** Resolves once some transaction waits for a lock, i.e. for another one to finish. */
async function someTransactionBlocked(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const blocked = await read(
      `SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' RETURN count(*) AS n`,
      {},
      (record) => record.get('n').toNumber() as number,
    );
    if (blocked[0] > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no transaction got blocked within 30 s');
}

describe('concurrent ingestion', () => {
  const referencePath = newProject();
  let reference: string[];

  beforeAll(async () => {
    await ingestDocument(driver, { projectPath: referencePath, visibility: 'public' }, tutorial);
    reference = await shapeOf(referencePath);
  });

  it('writes a new document once when it comes three times at once', async () => {
    const projectPath = newProject();
    await Promise.all(
      [1, 2, 3].map(() => ingestDocument(driver, { projectPath, visibility: 'public' }, tutorial)),
    );
    expect(await shapeOf(projectPath)).toEqual(reference);
  });

  it('merges instead when another writer creates one of its new files first', async () => {
    const projectPath = newProject();
    const [fileId] = await read(
      'MATCH (f:File {projectPath: $projectPath})<-[:GENERATED]-() RETURN f.id AS id LIMIT 1',
      { projectPath: referencePath },
      (record) => record.get('id') as string,
    );

    // The other writer holds the file uncommitted: the ingestion's look-up does not see it,
    // its CREATE waits on the uniqueness constraint, then finds the file taken.
    const session = driver.session();
    const other = await session.beginTransaction();
    try {
      await other.run('CREATE (:File {projectPath: $projectPath, id: $fileId})', {
        projectPath,
        fileId,
      });
      const ingestion = ingestDocument(driver, { projectPath, visibility: 'public' }, tutorial);
      await someTransactionBlocked();
      await other.commit();
      await expect(ingestion).resolves.toEqual({ runs: 2, entities: 9, datasets: 0 });
    } finally {
      await session.close();
    }
    expect(await shapeOf(projectPath)).toEqual(reference);
  });

  it('merges when the graph already holds a file version a new run generated', async () => {
    // A new run's outputs are created without a look-up; a version written before (by an
    // earlier push whose run had another id, say) makes the CREATE fail and the retry merge.
    const projectPath = newProject();
    const [fileId] = await read(
      'MATCH (f:File {projectPath: $projectPath})<-[:GENERATED]-() RETURN f.id AS id LIMIT 1',
      { projectPath: referencePath },
      (record) => record.get('id') as string,
    );
    await read(
      'CREATE (:File {projectPath: $projectPath, id: $fileId})',
      {
        projectPath,
        fileId,
      },
      () => undefined,
    );
    await expect(
      ingestDocument(driver, { projectPath, visibility: 'public' }, tutorial),
    ).resolves.toEqual({ runs: 2, entities: 9, datasets: 0 });
    expect(await shapeOf(projectPath)).toEqual(reference);
  });
});
