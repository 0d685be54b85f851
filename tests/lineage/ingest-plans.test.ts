import { createLogger } from '@renku-supergraph/kit';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Driver, ManagedTransaction } from 'neo4j-driver';

import { ingestDocument } from '../../subgraphs/lineage/src/ingest/ingest';
import { planOnce } from '../../subgraphs/lineage/src/ingest/write-provenance';
import { startGraphDatabase, type GraphDatabase } from './graph-database';

// Ingestion keeps the plan a statement got first (`CYPHER replan=skip`), and the first one is
// made on a small or empty graph. That is only safe while every statement finds its nodes by
// a key or a node id, whatever the graph's size: these tests plan each ingestion statement
// where it is first run, on an empty graph, and refuse any plan that scans.

const log = createLogger('ingest-plans-test', 'warn');
const repoRoot = path.resolve(__dirname, '../..');
const documents = {
  'renku 0.x (tutorial-zhbikes)': path.join(repoRoot, 'demo/tutorial-zhbikes/source.ld.json'),
  'renku 2.x (plans, parameters, a dataset)': path.join(
    __dirname,
    'fixtures/renku-2x-flights.jsonld',
  ),
};
/** Operators that read every node of a label or every relationship of a type. */
const scans = /Scan/;

let database: GraphDatabase;
let driver: Driver;

beforeAll(async () => {
  database = await startGraphDatabase('ingest-plans-test', log);
  driver = database.driver;
});

afterAll(async () => {
  await database?.stop();
});

interface PlanNode {
  operatorType: string;
  children: PlanNode[];
}

const operatorsOf = (plan: PlanNode): string[] => [
  plan.operatorType.replace(/@.*$/, ''),
  ...plan.children.flatMap(operatorsOf),
];

/** Ingests a document and returns each statement it ran with its plan's operators. */
async function planned(file: string, projectPath: string): Promise<Map<string, string[]>> {
  const plans = new Map<string, string[]>();
  const run = ManagedTransaction.prototype.run;
  const spy = jest.spyOn(ManagedTransaction.prototype, 'run').mockImplementation(function (
    this: ManagedTransaction,
    query,
    parameters,
  ) {
    const text = String(query);
    if (!text.startsWith(planOnce)) return run.call(this, query, parameters);
    const explain = plans.has(text)
      ? Promise.resolve()
      : run
          .call(this, `EXPLAIN ${text}`, parameters)
          .then((result) => plans.set(text, operatorsOf(result.summary.plan as PlanNode)));
    // The plan is taken first, in the same transaction: where the statement itself is planned.
    return explain.then(() => run.call(this, query, parameters)) as ReturnType<typeof run>;
  });
  try {
    const document = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    await ingestDocument(driver, { projectPath, visibility: 'public' }, document);
  } finally {
    spy.mockRestore();
  }
  return plans;
}

describe.each(Object.entries(documents))('ingestion statements of %s', (_, file) => {
  it('find every node by key or node id on an empty graph, never by a scan', async () => {
    const plans = await planned(file, `tester/plans-${Date.now()}`);
    expect(plans.size).toBeGreaterThan(5);
    const scanning = [...plans]
      .filter(([, operators]) => operators.some((operator) => scans.test(operator)))
      .map(([text, operators]) => `${text.replace(/\s+/g, ' ').slice(0, 120)}: ${operators}`);
    expect(scanning).toEqual([]);
  });
});
