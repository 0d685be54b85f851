import { type Authenticated, createLogger, type Running } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';

import { startLineageSubgraph } from '../../subgraphs/lineage/src/index';
import { createStatusLoader } from '../../subgraphs/lineage/src/lineage-status';
import {
  createWorkflowGraphLoader,
  type WorkflowGraph,
  type WorkflowGraphQuery,
} from '../../subgraphs/lineage/src/workflow-graph';
import { type GraphDatabase, startGraphDatabase } from './graph-database';

/**
 * Hostile checks of the batched reads of `workflowGraph` and `lineageStatus`: mixes of
 * readable, hidden and missing projects in one batch, several pages of one project, bad
 * arguments and cursors for one item, runs without a start time, odd paths, long lists.
 */
const log = createLogger('batched-reads-test', 'warn');

let database: GraphDatabase;
let driver: Driver;
let running: Running;

const pub = 'tester/public-runs';
const priv = 'tester/private-runs';
const internal = 'tester/internal-runs';
const empty = 'tester/no-runs';
const other = 'tester/other-runs';
const undated = 'tester/undated-runs';
const growing = 'tester/growing-runs';
const missing = 'nobody/nothing';
const odd = [
  'we\u0301ird/pa"th\\with\'quotes`and {braces}',
  'space y/%2e%2e/../ünïcödé/😀',
  'line\nbreak/and\ttab',
  'x'.repeat(2000),
];

/** Runs named `<prefix>-NN`, started a minute apart from `start` minutes past midnight. */
function runsOf(prefix: string, count: number, start = 0) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(3, '0')}`,
    startedAt: new Date(Date.UTC(2026, 0, 1) + (start + i) * 60_000).toISOString(),
  }));
}

async function write(query: string, params: Record<string, unknown>) {
  const session = driver.session();
  try {
    await session.executeWrite((tx) => tx.run(query, params));
  } finally {
    await session.close();
  }
}

async function project(
  path: string,
  visibility: string,
  runs: { id: string; startedAt: string | null }[],
  members: string[] = [],
) {
  await write(
    `MERGE (project:Project {path: $path}) SET project.visibility = $visibility
     WITH project
     UNWIND $members AS username
     MERGE (member:Member {username: username})
     MERGE (member)-[:MEMBER_OF]->(project)`,
    { path, visibility, members },
  );
  await addRuns(path, runs);
}

async function addRuns(path: string, runs: { id: string; startedAt: string | null }[]) {
  await write(
    `UNWIND $runs AS row
     CREATE (run:Run {projectPath: $path, id: row.id})
     SET run.startedAt = row.startedAt, run.commandLine = 'cmd ' + row.id`,
    { path, runs },
  );
}

type Viewer = 'anonymous' | string;
function contextOf(viewer: Viewer): Authenticated & { driver: Driver } {
  return viewer === 'anonymous'
    ? { driver }
    : { driver, caller: { id: `id-${viewer}`, username: viewer, roles: [] } as never };
}

async function graphs(viewer: Viewer, queries: WorkflowGraphQuery[]) {
  return createWorkflowGraphLoader(contextOf(viewer)).loadMany(queries);
}

const ids = (graph: WorkflowGraph | Error) =>
  graph instanceof Error ? graph : graph.runs.map((run) => run.id);

const codeOf = (error: unknown) =>
  (error as { extensions?: { code?: string } }).extensions?.code ?? String(error);

beforeAll(async () => {
  database = await startGraphDatabase('batched-reads-test', log);
  driver = database.driver;
  await project(pub, 'public', runsOf('pub', 7));
  await project(priv, 'private', runsOf('priv', 3), ['bea']);
  await project(internal, 'internal', runsOf('int', 2));
  await project(empty, 'public', []);
  await project(other, 'public', runsOf('oth', 5, 3));
  await project(undated, 'public', [
    { id: 'u-b', startedAt: null },
    { id: 'u-a', startedAt: null },
    ...runsOf('u-dated', 2),
    { id: 'u-c', startedAt: null },
  ]);
  await project(growing, 'public', runsOf('g', 6, 10));
  for (const path of odd) await project(path, 'public', runsOf(`odd${odd.indexOf(path)}`, 2));
  running = await startLineageSubgraph(
    { port: 0, host: '127.0.0.1', neo4j: { uri: database.url } },
    log,
  );
}, 300_000);

afterAll(async () => {
  await running?.stop();
  await database?.stop();
});

async function post(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return JSON.parse(await response.text());
}

describe('who may read what, in one batch', () => {
  const batch = [pub, priv, internal, missing, empty, priv, pub];
  const expected: Record<string, Record<string, string[] | 'NOT_FOUND'>> = {
    anonymous: { [priv]: 'NOT_FOUND', [internal]: 'NOT_FOUND' },
    bea: { [priv]: runsOf('priv', 3).map((run) => run.id), [internal]: ['int-000', 'int-001'] },
    carl: { [priv]: 'NOT_FOUND', [internal]: ['int-000', 'int-001'] },
  };
  for (const viewer of Object.keys(expected)) {
    it(`workflow graphs for ${viewer}`, async () => {
      const answers = await graphs(
        viewer,
        batch.map((projectPath) => ({ projectPath, first: 50 })),
      );
      const want = (path: string) =>
        path === missing
          ? 'NOT_FOUND'
          : path === pub
            ? runsOf('pub', 7).map((run) => run.id)
            : path === empty
              ? []
              : expected[viewer][path];
      answers.forEach((answer, i) => {
        const wanted = want(batch[i]);
        if (wanted === 'NOT_FOUND') {
          expect(answer).toBeInstanceOf(Error);
          expect(codeOf(answer)).toBe('NOT_FOUND');
          // Hidden and missing read alike: only the path differs.
          expect((answer as Error).message).toBe(`project "${batch[i]}" not found`);
        } else {
          expect(ids(answer)).toEqual(wanted);
        }
      });
    });

    it(`lineage statuses for ${viewer}`, async () => {
      const answers = await createStatusLoader(contextOf(viewer)).loadMany(batch);
      answers.forEach((answer, i) => {
        const path = batch[i];
        const hidden =
          path === missing ||
          (path !== pub && path !== empty && expected[viewer][path] === 'NOT_FOUND');
        if (hidden) {
          expect(codeOf(answer)).toBe('NOT_FOUND');
          expect((answer as Error).message).toBe(`project "${path}" not found`);
        } else {
          expect(answer).toMatchObject({ activated: false, progress: { total: 0 } });
        }
      });
    });
  }
});

describe('pages of several projects and sizes in one batch', () => {
  it('never mixes pages of projects nor of sizes', async () => {
    const firstPage = (
      await graphs('anonymous', [{ projectPath: pub, first: 2 }])
    )[0] as WorkflowGraph;
    const cursor = firstPage.pageInfo.endCursor!;
    const answers = await graphs('anonymous', [
      { projectPath: pub, first: 1 },
      { projectPath: other, first: 500 },
      { projectPath: pub, first: 3, after: cursor },
      { projectPath: other, first: 2 },
      { projectPath: pub, first: 500, after: cursor },
      { projectPath: empty, first: 1 },
      { projectPath: pub, first: null },
    ]);
    const pubIds = runsOf('pub', 7).map((run) => run.id);
    const othIds = runsOf('oth', 5, 3).map((run) => run.id);
    expect(answers.map(ids)).toEqual([
      pubIds.slice(0, 1),
      othIds,
      pubIds.slice(2, 5),
      othIds.slice(0, 2),
      pubIds.slice(2),
      [],
      pubIds,
    ]);
    const pages = answers as WorkflowGraph[];
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([
      true,
      false,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(pages.map((page) => page.totalCount)).toEqual([7, 5, 7, 5, 7, 0, 7]);
    expect(pages[5].pageInfo.endCursor).toBeNull();
  });

  it('fails only the item with a bad first or after', async () => {
    const answers = await graphs('anonymous', [
      { projectPath: pub, first: 0 },
      { projectPath: pub, first: 501 },
      { projectPath: pub, first: -1 },
      { projectPath: pub, first: 1.5 },
      { projectPath: pub, first: 2 ** 40 },
      { projectPath: pub, first: 1, after: 'garbage' },
      { projectPath: pub, first: 1, after: Buffer.from('[1,2]').toString('base64url') },
      { projectPath: pub, first: 1, after: Buffer.from('["a"]').toString('base64url') },
      { projectPath: pub, first: 1, after: '!!!!' },
      { projectPath: other, first: 1 },
      { projectPath: missing, first: 0 },
    ]);
    expect(answers.slice(0, 9).map(codeOf)).toEqual(Array(9).fill('BAD_USER_INPUT'));
    expect(ids(answers[9])).toEqual(['oth-000']);
    expect(codeOf(answers[10])).toBe('BAD_USER_INPUT');
  });

  it('takes a cursor of one project on another as a position, never as data of the first', async () => {
    const [page] = (await graphs('anonymous', [{ projectPath: pub, first: 4 }])) as WorkflowGraph[];
    // pub's 4th run started at minute 3; other's runs start at minutes 3 to 7.
    const [foreign, hidden] = await graphs('anonymous', [
      { projectPath: other, first: 10, after: page.pageInfo.endCursor },
      { projectPath: priv, first: 10, after: page.pageInfo.endCursor },
    ]);
    // The cursor is a position [startedAt, id], not bound to its project: other's runs after it.
    expect(ids(foreign)).toEqual(
      runsOf('oth', 5, 3)
        .slice(1)
        .map((run) => run.id),
    );
    expect(codeOf(hidden)).toBe('NOT_FOUND');
  });
});

describe('paging', () => {
  async function walk(
    projectPath: string,
    first: number,
    between?: (page: number) => Promise<void>,
  ) {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const [answer] = (await graphs('anonymous', [
        { projectPath, first, after },
      ])) as WorkflowGraph[];
      seen.push(...answer.runs.map((run) => run.id));
      if (!answer.pageInfo.hasNextPage) return seen;
      after = answer.pageInfo.endCursor;
      await between?.(page);
    }
    throw new Error('no end');
  }

  it('walks runs without a start time first, each once', async () => {
    for (const first of [1, 2, 3, 5]) {
      expect(await walk(undated, first)).toEqual([
        'u-a',
        'u-b',
        'u-c',
        'u-dated-000',
        'u-dated-001',
      ]);
    }
  });

  it('neither drops nor repeats a run while runs are added', async () => {
    const seen = await walk(growing, 2, async (page) => {
      // One run before the cursor (missed by design of keyset paging), one after it.
      await addRuns(growing, [
        { id: `g-early-${page}`, startedAt: new Date(Date.UTC(2025, 0, 1)).toISOString() },
        { id: `g-late-${page}`, startedAt: new Date(Date.UTC(2027, 0, 1, 0, page)).toISOString() },
      ]);
    });
    expect(new Set(seen).size).toBe(seen.length);
    for (const run of runsOf('g', 6, 10)) expect(seen).toContain(run.id);
    expect(seen.filter((id) => id.startsWith('g-late-')).length).toBeGreaterThan(0);
  });
});

describe('odd inputs', () => {
  it('answers paths with odd characters, alone and among others', async () => {
    const answers = await graphs(
      'anonymous',
      [...odd, pub, ...odd.map((path) => `${path} `)].map((projectPath) => ({
        projectPath,
        first: 5,
      })),
    );
    odd.forEach((_path, i) => expect(ids(answers[i])).toEqual([`odd${i}-000`, `odd${i}-001`]));
    expect(ids(answers[odd.length])).toHaveLength(5);
    for (const answer of answers.slice(odd.length + 1)) expect(codeOf(answer)).toBe('NOT_FOUND');
    const statuses = await createStatusLoader(contextOf('anonymous')).loadMany([...odd, missing]);
    expect(statuses.slice(0, odd.length).every((s) => !(s instanceof Error))).toBe(true);
    expect(codeOf(statuses[odd.length])).toBe('NOT_FOUND');
  });

  it('answers 500 representations, hidden and missing among them, over HTTP', async () => {
    const paths = Array.from(
      { length: 500 },
      (_, i) => [pub, priv, missing, other, empty, `${missing}-${i}`][i % 6],
    );
    const body = await post(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Project { path workflowGraph(first: 2) { runs { id } totalCount } lineageStatus { activated } }
        }
      }`,
      { representations: paths.map((path) => ({ __typename: 'Project', path })) },
    );
    const entities = body.data._entities as { workflowGraph: unknown; lineageStatus: unknown }[];
    expect(entities).toHaveLength(500);
    entities.forEach((entity, i) => {
      const path = paths[i];
      if (path === pub || path === other || path === empty) {
        expect(entity.workflowGraph).toMatchObject({
          totalCount: path === pub ? 7 : path === other ? 5 : 0,
        });
        expect(entity.lineageStatus).toEqual({ activated: false });
      } else {
        expect(entity).toMatchObject({ workflowGraph: null, lineageStatus: null });
      }
    });
    const hiddenCount = paths.filter((path) => ![pub, other, empty].includes(path)).length;
    expect(body.errors).toHaveLength(hiddenCount * 2);
    expect(
      new Set(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)),
    ).toEqual(new Set(['NOT_FOUND']));
  });

  it('fails only the representation whose path is no string', async () => {
    const body = await post(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Project { workflowGraph(first: 1) { runs { id } } lineageStatus { activated } }
        }
      }`,
      {
        representations: [pub, { nested: priv }, [priv], 42, null, true, undefined, pub].map(
          (path) => ({ __typename: 'Project', path }),
        ),
      },
    );
    expect(body.data._entities[0]).toEqual({
      workflowGraph: { runs: [{ id: 'pub-000' }] },
      lineageStatus: { activated: false },
    });
    expect(body.data._entities[7]).toEqual(body.data._entities[0]);
    for (const entity of body.data._entities.slice(1, 7)) {
      expect(entity).toMatchObject({ workflowGraph: null, lineageStatus: null });
    }
  });
});

describe('representations without a path', () => {
  // `lineageStatus` called `DataLoader.load(undefined)` for a representation without a path:
  // a TypeError, answered INTERNAL_SERVER_ERROR, where `workflowGraph` of the same
  // representation answers NOT_FOUND (as both did before batching).
  it('answers NOT_FOUND for the lineage status of a representation without a path', async () => {
    const body = await post(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) { ... on Project { lineageStatus { activated } } }
      }`,
      { representations: [{ __typename: 'Project', path: null }, { __typename: 'Project' }] },
    );
    expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual([
      'NOT_FOUND',
      'NOT_FOUND',
    ]);
  });
});

describe('a token that did not verify', () => {
  // Over HTTP `failRootFieldsOnBadToken` fails `_entities` before these loaders run; called
  // directly, every item still fails (DataLoader wraps the error) and none reads as anonymous.
  it('fails every item of the batch, never answers as anonymous', async () => {
    const context = { driver, authFailure: new Error('token expired') as never };
    const answers = [
      ...(await createWorkflowGraphLoader(context).loadMany([
        { projectPath: pub },
        { projectPath: priv },
      ])),
      ...(await createStatusLoader(context).loadMany([pub, priv])),
    ];
    for (const answer of answers) {
      expect(answer).toBeInstanceOf(Error);
      expect((answer as Error).message).toContain('token expired');
    }
  });
});
