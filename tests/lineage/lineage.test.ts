import { createLogger, type Running } from '@renku-supergraph/kit';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';

import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { applyGraphSchema } from '../../subgraphs/lineage/src/graph-schema';
import { startLineageSubgraph } from '../../subgraphs/lineage/src/index';
import { expandDocument } from '../../subgraphs/lineage/src/ingest/expand';
import { ingestDocument } from '../../subgraphs/lineage/src/ingest/ingest';
import { findLineage, type Lineage } from '../../subgraphs/lineage/src/lineage';
import { setMembers } from '../../subgraphs/lineage/src/members';
import { hashSecret } from '../../subgraphs/lineage/src/webhooks/secrets';
import { sha, zeroXDocument } from './documents';

const log = createLogger('lineage-test', 'warn');
const anonymous = { kind: 'anonymous' } as const;
const repoRoot = path.resolve(__dirname, '../..');
const tutorial = JSON.parse(
  readFileSync(path.join(repoRoot, 'demo/tutorial-zhbikes/source.ld.json'), 'utf8'),
) as unknown;
const zhbikes = 'ada.analyst/tutorial-zhbikes';
const cleanRun = '/07b64b6cd153cf7988e2f9cca41c58e296f57b75#';
const plotRun = '/90c458fceb7fa2f267c797ca44c29d93aba046f6#';

let dataDir: string;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let driver: Driver;

beforeAll(async () => {
  await provisionNeo4j();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'lineage-test-'));
  database = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });
  driver = neo4j.driver(database.url);
  await applyGraphSchema(driver, log);
  await ingestDocument(driver, { projectPath: zhbikes, visibility: 'public' }, tutorial);
});

afterAll(async () => {
  await driver?.close();
  await database?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Each test gets its own project, so that tests share one database without meeting. */
let projects = 0;
function newProject(): string {
  projects += 1;
  return `tester/project-${projects}-${Date.now()}`;
}

async function countInProject(projectPath: string): Promise<Record<string, number>> {
  const session = driver.session();
  try {
    const result = await session.executeRead((tx) =>
      tx.run(
        `OPTIONAL MATCH (n {projectPath: $projectPath})
         WITH count(n) AS nodes
         OPTIONAL MATCH ({projectPath: $projectPath})-[r]->()
         WITH nodes, count(r) AS relationships
         OPTIONAL MATCH (p:Project {path: $projectPath})
         RETURN nodes, relationships, count(p) AS projects`,
        { projectPath },
      ),
    );
    const record = result.records[0];
    return {
      nodes: record.get('nodes').toNumber(),
      relationships: record.get('relationships').toNumber(),
      projects: record.get('projects').toNumber(),
    };
  } finally {
    await session.close();
  }
}

const ids = (lineage: Lineage) => lineage.nodes.map((node) => node.id).sort();
const edges = (lineage: Lineage) =>
  lineage.edges.map((edge) => `${edge.source} -> ${edge.target}`).sort();

describe('lineage of the tutorial-zhbikes project (renku 0.x export)', () => {
  const parquet = 'data/preprocessed/zhbikes.parquet';

  it('shows the run that made a file, its inputs, and what was made from it', async () => {
    const lineage = await findLineage(driver, anonymous, {
      projectPath: zhbikes,
      filePath: parquet,
      direction: 'BOTH',
    });

    const clean = lineage.nodes.find((node) => node.id === cleanRun);
    expect(clean).toEqual({
      id: cleanRun,
      location: cleanRun,
      label: 'python src/clean_data.py data/zhbikes data/preprocessed/zhbikes.parquet',
      type: 'ProcessRun',
    });
    expect(lineage.nodes).toContainEqual({
      id: 'data/zhbikes',
      location: 'data/zhbikes',
      label: 'data/zhbikes',
      type: 'Directory',
    });
    expect(lineage.nodes.find((node) => node.id === plotRun)?.label).toBe(
      'python src/plot_data.py data/preprocessed/zhbikes.parquet',
    );
    expect(ids(lineage)).toEqual(
      [
        cleanRun,
        plotRun,
        'data/preprocessed/zhbikes.parquet',
        'data/zhbikes',
        'figs/cumulative.png',
        'figs/grid_plot.png',
        'src/clean_data.py',
        'src/plot_data.py',
      ].sort(),
    );
    expect(edges(lineage)).toEqual(
      [
        `data/zhbikes -> ${cleanRun}`,
        `src/clean_data.py -> ${cleanRun}`,
        `${cleanRun} -> ${parquet}`,
        `${parquet} -> ${plotRun}`,
        `src/plot_data.py -> ${plotRun}`,
        `${plotRun} -> figs/cumulative.png`,
        `${plotRun} -> figs/grid_plot.png`,
      ].sort(),
    );
  });

  it('narrows to one direction', async () => {
    const upstream = await findLineage(driver, anonymous, {
      projectPath: zhbikes,
      filePath: parquet,
      direction: 'UPSTREAM',
    });
    expect(ids(upstream)).toEqual([cleanRun, parquet, 'data/zhbikes', 'src/clean_data.py'].sort());

    const downstream = await findLineage(driver, anonymous, {
      projectPath: zhbikes,
      filePath: parquet,
      direction: 'DOWNSTREAM',
    });
    expect(ids(downstream)).toEqual(
      [plotRun, parquet, 'figs/cumulative.png', 'figs/grid_plot.png', 'src/plot_data.py'].sort(),
    );
  });

  it('narrows by depth, counted in runs', async () => {
    const one = await findLineage(driver, anonymous, {
      projectPath: zhbikes,
      filePath: 'data/zhbikes',
      direction: 'DOWNSTREAM',
      depth: 1,
    });
    // A run comes with all its inputs and outputs; the walk stops after one run.
    expect(ids(one)).toEqual([cleanRun, parquet, 'data/zhbikes', 'src/clean_data.py'].sort());

    const none = await findLineage(driver, anonymous, {
      projectPath: zhbikes,
      filePath: 'data/zhbikes',
      direction: 'BOTH',
      depth: 0,
    });
    expect(none).toEqual({
      nodes: [
        { id: 'data/zhbikes', location: 'data/zhbikes', label: 'data/zhbikes', type: 'Directory' },
      ],
      edges: [],
    });
  });

  it('answers NOT_FOUND for a file without lineage and for an unknown project', async () => {
    await expect(
      findLineage(driver, anonymous, {
        projectPath: zhbikes,
        filePath: '.gitattributes',
        direction: 'BOTH',
      }),
    ).rejects.toMatchObject({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) });
    await expect(
      findLineage(driver, anonymous, {
        projectPath: 'no/such',
        filePath: parquet,
        direction: 'BOTH',
      }),
    ).rejects.toMatchObject({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) });
  });

  it('hides the lineage of a private project from anonymous callers', async () => {
    const hidden = newProject();
    await ingestDocument(driver, { projectPath: hidden, visibility: 'private' }, tutorial);
    await expect(
      findLineage(driver, anonymous, { projectPath: hidden, filePath: parquet, direction: 'BOTH' }),
    ).rejects.toMatchObject({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) });
  });
});

describe('ingestion', () => {
  it('changes nothing when the same document comes twice, even at once', async () => {
    const projectPath = newProject();
    const first = await ingestDocument(driver, { projectPath, visibility: 'public' }, tutorial);
    // 11 entities, of which 2 are plans (workflow files), not data.
    expect(first).toEqual({ runs: 2, entities: 9, datasets: 0 });
    const once = await countInProject(projectPath);

    await Promise.all([
      ingestDocument(driver, { projectPath }, tutorial),
      ingestDocument(driver, { projectPath }, tutorial),
    ]);
    expect(await countInProject(projectPath)).toEqual(once);
    expect(once.projects).toBe(1);
  });

  it('writes the project node the projects subgraph reads', async () => {
    const projectPath = newProject();
    await ingestDocument(driver, { projectPath, visibility: 'internal', name: 'Bikes' }, tutorial);
    const session = driver.session();
    try {
      const result = await session.executeRead((tx) =>
        tx.run('MATCH (p:Project {path: $projectPath}) RETURN properties(p) AS p', { projectPath }),
      );
      expect(result.records[0].get('p')).toEqual({
        path: projectPath,
        name: 'Bikes',
        slug: projectPath.split('/')[1],
        visibility: 'internal',
        keywords: [],
        createdAt: '2018-09-04T10:40:25.000Z',
        modifiedAt: '2018-09-04T10:41:02.000Z',
      });
    } finally {
      await session.close();
    }
  });

  const broken: [string, unknown, RegExp][] = [
    [
      'an activity without @id',
      {
        '@context': {
          prov: 'http://www.w3.org/ns/prov#',
          wfprov: 'http://purl.org/wf4ever/wfprov#',
        },
        '@graph': [
          {
            '@type': ['prov:Activity', 'wfprov:ProcessRun'],
            'prov:startedAtTime': '2020-01-01T00:00:00',
          },
        ],
      },
      /node "_:b\d+", @id: an activity has no @id/,
    ],
    [
      'invalid JSON-LD',
      { '@context': { prov: 42 }, '@id': '/x' },
      /invalid renku metadata: .*term values must be strings or objects/,
    ],
    [
      'a usage of an entity the document does not hold',
      {
        '@context': {
          prov: 'http://www.w3.org/ns/prov#',
          wfprov: 'http://purl.org/wf4ever/wfprov#',
        },
        '@id': '/abc#',
        '@type': ['prov:Activity', 'wfprov:ProcessRun'],
        'prov:qualifiedUsage': {
          '@type': 'prov:Usage',
          'prov:entity': { '@id': '/abc/missing.csv' },
        },
      },
      /node "\/abc# > _:b\d+", prov:entity: refers to "\/abc\/missing.csv", which is not in the document/,
    ],
    [
      'a start time that is not a time',
      {
        '@context': {
          prov: 'http://www.w3.org/ns/prov#',
          wfprov: 'http://purl.org/wf4ever/wfprov#',
        },
        '@id': '/abc#',
        '@type': ['prov:Activity', 'wfprov:ProcessRun'],
        'prov:startedAtTime': 'yesterday',
      },
      /node "\/abc#", prov:startedAtTime: "yesterday" is not a date and time/,
    ],
  ];

  it.each(broken)('writes nothing for %s and names the fault', async (_what, document, message) => {
    const projectPath = newProject();
    await expect(ingestDocument(driver, { projectPath }, document)).rejects.toMatchObject({
      message: expect.stringMatching(message),
      extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    });
    expect(await countInProject(projectPath)).toEqual({ nodes: 0, relationships: 0, projects: 0 });
  });
});

describe('a renku 2.x style export', () => {
  const flights = JSON.parse(
    readFileSync(path.join(__dirname, 'fixtures/renku-2x-flights.jsonld'), 'utf8'),
  ) as unknown;

  it('gives lineage with command lines rebuilt from the plans', async () => {
    const projectPath = newProject();
    const summary = await ingestDocument(driver, { projectPath, visibility: 'public' }, flights);
    expect(summary).toEqual({ runs: 2, entities: 5, datasets: 1 });

    const lineage = await findLineage(driver, anonymous, {
      projectPath,
      filePath: 'results/output.csv',
      direction: 'UPSTREAM',
    });
    expect(lineage.nodes.filter((node) => node.type === 'ProcessRun')).toEqual([
      {
        id: 'https://renkulab.io/activities/a1',
        location: 'https://renkulab.io/activities/a1',
        label: 'head -n 3 data/collection/models.csv data/collection/colors.csv > intermediate',
        type: 'ProcessRun',
      },
      {
        id: 'https://renkulab.io/activities/a2',
        location: 'https://renkulab.io/activities/a2',
        label: 'tail -n 5 intermediate > results/output.csv',
        type: 'ProcessRun',
      },
    ]);
    expect(edges(lineage)).toContain(
      'data/collection/models.csv -> https://renkulab.io/activities/a1',
    );
  });

  it('stores the project metadata, plans and datasets once however often it comes', async () => {
    const projectPath = newProject();
    await ingestDocument(driver, { projectPath }, flights);
    const once = await countInProject(projectPath);
    await ingestDocument(driver, { projectPath }, flights);
    expect(await countInProject(projectPath)).toEqual(once);

    const session = driver.session();
    try {
      const result = await session.executeRead((tx) =>
        tx.run(
          `MATCH (p:Project {path: $projectPath})
           OPTIONAL MATCH (p)-[:CREATED_BY]->(creator:Person)
           WITH p, collect(creator.email) AS creators
           OPTIONAL MATCH (d:Dataset)-[:IN_PROJECT]->(p)
           OPTIONAL MATCH (d)-[:HAS_PART]->(f:File)
           WITH p, creators, d, collect(f.path) AS parts
           OPTIONAL MATCH (:Plan {projectPath: $projectPath, name: 'head'})-[:HAS_INPUT|HAS_OUTPUT|HAS_PARAMETER]->(arg)
           RETURN p {.name, .description, .keywords, .visibility, .createdAt} AS project, creators,
                  d.slug AS dataset, parts, collect(arg.position) AS positions`,
          { projectPath },
        ),
      );
      const record = result.records[0].toObject();
      expect(record.project).toEqual({
        name: 'flights',
        description: 'A sample workflow on flight data',
        keywords: ['workflow file', 'v1'],
        visibility: 'private',
        createdAt: '2024-03-01T08:00:00.000Z',
      });
      expect(record.creators).toEqual(['ada.analyst@example.org']);
      expect(record.dataset).toBe('collection');
      expect(record.parts.sort()).toEqual([
        'data/collection/colors.csv',
        'data/collection/models.csv',
      ]);
      // Positions are stored as Neo4j integers, not floats.
      expect(record.positions.map((n: { toNumber(): number }) => n.toNumber()).sort()).toEqual([
        1, 2, 3, 4,
      ]);
    } finally {
      await session.close();
    }
  });
});

describe('the graph schema', () => {
  it('applies a file with a lower number that lands after a higher one', async () => {
    const dir = await mkdtemp(path.join(dataDir, 'schema-'));
    const graph = `test-${Date.now()}`;
    const label = `Probe${Date.now()}`;
    await writeFile(
      path.join(dir, '005-b.cypher'),
      `CREATE INDEX probe_b IF NOT EXISTS FOR (n:${label}) ON (n.b);`,
    );
    expect(await applyGraphSchema(driver, log, { dir, graph })).toBe(5);
    await writeFile(
      path.join(dir, '004-a.cypher'),
      `CREATE INDEX probe_a IF NOT EXISTS FOR (n:${label}) ON (n.a);`,
    );
    expect(await applyGraphSchema(driver, log, { dir, graph })).toBe(5);

    const session = driver.session();
    try {
      const result = await session.run(
        `SHOW INDEXES YIELD name, labelsOrTypes WHERE $label IN labelsOrTypes RETURN name`,
        { label },
      );
      expect(result.records.map((record) => record.get('name')).sort()).toEqual([
        'probe_a',
        'probe_b',
      ]);
      await session.run('DROP INDEX probe_a IF EXISTS');
      await session.run('DROP INDEX probe_b IF EXISTS');
      await session.run('MATCH (v:SchemaVersion {graph: $graph}) DELETE v', { graph });
    } finally {
      await session.close();
    }
  });
});

describe('the ingest command', () => {
  it('loads a file into the project it names', async () => {
    // The stack runs the compiled command; build it as the stack does.
    await run('npx', ['tsc', '-b', 'subgraphs/lineage']);
    const projectPath = newProject();
    await run(
      process.execPath,
      [
        'subgraphs/lineage/dist/ingest-cli.js',
        '--project',
        projectPath,
        '--visibility',
        'public',
        'demo/tutorial-zhbikes/source.ld.json',
      ],
      { NEO4J_URI: database.url },
    );
    const lineage = await findLineage(driver, anonymous, {
      projectPath,
      filePath: 'figs/grid_plot.png',
      direction: 'UPSTREAM',
    });
    expect(ids(lineage)).toContain(cleanRun);
  });

  it('activates webhook ingestion for a project and prints the secret once', async () => {
    const projectPath = newProject();
    const secret = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['subgraphs/lineage/dist/activate-cli.js', '--project', projectPath],
        { cwd: repoRoot, env: { ...process.env, NEO4J_URI: database.url } },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout.trim())),
      ),
    );
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const session = driver.session();
    try {
      const result = await session.run(
        'MATCH (p:Project {path: $projectPath}) RETURN p.lineageSecretHash AS hash',
        { projectPath },
      );
      // Only the hash is kept.
      expect(result.records[0].get('hash')).toBe(hashSecret(secret));
    } finally {
      await session.close();
    }
  });

  it('fails with the reason on a broken file and writes nothing', async () => {
    const projectPath = newProject();
    const file = path.join(dataDir, 'broken.json');
    await writeFile(file, JSON.stringify({ '@context': { prov: 7 }, '@id': '/x' }));
    await expect(
      run(
        process.execPath,
        ['subgraphs/lineage/dist/ingest-cli.js', '--project', projectPath, file],
        {
          NEO4J_URI: database.url,
        },
      ),
    ).rejects.toThrow(/ingest failed: invalid renku metadata/);
    expect(await countInProject(projectPath)).toEqual({ nodes: 0, relationships: 0, projects: 0 });
  });
});

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env } },
      (error, _stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve()),
    );
  });
}

describe('lineage on graphs of other shapes', () => {
  it('finds each node of a diamond once', async () => {
    const projectPath = newProject();
    const document = zeroXDocument(
      [
        {
          commit: sha('left'),
          command: 'python left.py raw.csv',
          used: ['raw.csv'],
          generated: ['left.csv'],
          at: '2020-01-01T10:00:00',
        },
        {
          commit: sha('right'),
          command: 'python right.py raw.csv',
          used: ['raw.csv'],
          generated: ['right.csv'],
          at: '2020-01-01T11:00:00',
        },
        {
          commit: sha('join'),
          command: 'python join.py',
          used: ['left.csv', 'right.csv'],
          generated: ['joined.csv'],
          at: '2020-01-01T12:00:00',
        },
      ],
      [{ commit: sha('raw'), path: 'raw.csv' }],
    );
    await ingestDocument(driver, { projectPath, visibility: 'public' }, document);
    const run = (name: string) => `/${sha(name)}#`;

    const up = await findLineage(driver, anonymous, {
      projectPath,
      filePath: 'joined.csv',
      direction: 'UPSTREAM',
    });
    expect(ids(up)).toEqual(
      [
        run('left'),
        run('right'),
        run('join'),
        'raw.csv',
        'left.csv',
        'right.csv',
        'joined.csv',
      ].sort(),
    );
    expect(edges(up)).toEqual(
      [
        `raw.csv -> ${run('left')}`,
        `raw.csv -> ${run('right')}`,
        `${run('left')} -> left.csv`,
        `${run('right')} -> right.csv`,
        `left.csv -> ${run('join')}`,
        `right.csv -> ${run('join')}`,
        `${run('join')} -> joined.csv`,
      ].sort(),
    );

    const down = await findLineage(driver, anonymous, {
      projectPath,
      filePath: 'raw.csv',
      direction: 'DOWNSTREAM',
    });
    expect(ids(down)).toEqual(ids(up));
    expect(edges(down)).toEqual(edges(up));
  });

  it('ends on a cycle and counts only the latest producer of a path', async () => {
    const projectPath = newProject();
    const document = zeroXDocument(
      [
        {
          commit: sha('seed'),
          command: 'python seed.py',
          used: ['seed.txt'],
          generated: ['a.txt'],
          at: '2020-01-01T09:00:00',
        },
        {
          commit: sha('ab'),
          command: 'python ab.py',
          used: ['a.txt'],
          generated: ['b.txt'],
          at: '2020-01-01T10:00:00',
        },
        {
          commit: sha('ba'),
          command: 'python ba.py',
          used: ['b.txt'],
          generated: ['a.txt'],
          at: '2020-01-01T11:00:00',
        },
      ],
      [{ commit: sha('plain'), path: 'seed.txt' }],
    );
    await ingestDocument(driver, { projectPath, visibility: 'public' }, document);
    const run = (name: string) => `/${sha(name)}#`;

    const both = await findLineage(driver, anonymous, {
      projectPath,
      filePath: 'a.txt',
      direction: 'BOTH',
    });
    expect(edges(both)).toEqual(
      [
        `a.txt -> ${run('ab')}`,
        `${run('ab')} -> b.txt`,
        `b.txt -> ${run('ba')}`,
        `${run('ba')} -> a.txt`,
      ].sort(),
    );

    // The seed run made a.txt first, but a later run overwrote it: like `renku workflow
    // visualize --from seed.txt`, the superseded run is history and is left out.
    const fromSeed = await findLineage(driver, anonymous, {
      projectPath,
      filePath: 'seed.txt',
      direction: 'DOWNSTREAM',
    });
    expect(ids(fromSeed)).toEqual(['seed.txt']);
    expect(edges(fromSeed)).toEqual([]);
  });
});

describe('lineage across projects', () => {
  const flights = readFileSync(path.join(__dirname, 'fixtures/renku-2x-flights.jsonld'), 'utf8');
  const stamp = Date.now();
  const bea = { kind: 'user', username: `bea-${stamp}` } as const;
  const carl = { kind: 'user', username: `carl-${stamp}` } as const;
  const head = 'https://renkulab.io/activities/a1';
  const tail = 'https://renkulab.io/activities/a2';
  const models = 'data/collection/models.csv';
  const colors = 'data/collection/colors.csv';
  // A chain: `first` holds the dataset, `middle` (private, bea's) imported it, `last` imported
  // it from `middle`. Each runs the same two steps on it.
  const [first, middle, last] = [newProject(), newProject(), newProject()];
  const datasetId = (name: string) => `https://renkulab.io/datasets/${name}-${stamp}`;
  const flightsWith = (name: string, from?: string) => {
    const text = flights
      .replaceAll('https://renkulab.io/datasets/d1', datasetId(name))
      .replace('"schema:identifier": "d1"', `"schema:identifier": "${name}-${stamp}"`);
    return JSON.parse(
      from
        ? text.replace(
            '"schema:url": { "@id": "https://zenodo.org/record/0000000" }',
            `"schema:url": { "@id": "${from}" }`,
          )
        : text,
    );
  };

  beforeAll(async () => {
    await ingestDocument(driver, { projectPath: first, visibility: 'public' }, flightsWith('a'));
    await ingestDocument(
      driver,
      { projectPath: middle, visibility: 'private' },
      flightsWith('b', datasetId('a')),
    );
    await setMembers(driver, middle, [{ username: bea.username, role: 'reader' }]);
    await ingestDocument(
      driver,
      { projectPath: last, visibility: 'public' },
      flightsWith('c', datasetId('b')),
    );
  });

  const upstreamOfLast = [head, 'intermediate', models, colors];

  it('follows a file upstream through the projects its dataset came from, two projects away', async () => {
    const lineage = await findLineage(driver, bea, {
      projectPath: last,
      filePath: 'intermediate',
      direction: 'UPSTREAM',
    });

    expect(ids(lineage)).toEqual(
      [
        ...upstreamOfLast,
        `${middle}:${models}`,
        `${middle}:${colors}`,
        `${first}:${models}`,
        `${first}:${colors}`,
      ].sort(),
    );
    expect(edges(lineage)).toEqual(
      expect.arrayContaining([
        `${first}:${models} -> ${middle}:${models}`,
        `${middle}:${models} -> ${models}`,
        `${models} -> ${head}`,
      ]),
    );
  });

  it('does not enter a private project the caller cannot read, nor what lies beyond it', async () => {
    for (const viewer of [anonymous, carl]) {
      const lineage = await findLineage(driver, viewer, {
        projectPath: last,
        filePath: 'intermediate',
        direction: 'UPSTREAM',
      });
      expect(ids(lineage)).toEqual([...upstreamOfLast].sort());
    }
  });

  it('follows a file downstream into the projects that took it, and their runs', async () => {
    const lineage = await findLineage(driver, bea, {
      projectPath: first,
      filePath: models,
      direction: 'DOWNSTREAM',
    });

    const expected = [head, tail, 'results/output.csv', `${middle}:${models}`];
    for (const project of [middle, last]) {
      expected.push(...[models, head, tail, 'results/output.csv'].map((id) => `${project}:${id}`));
    }
    expect(ids(lineage)).toEqual(expect.arrayContaining(expected));
    expect(edges(lineage)).toEqual(
      expect.arrayContaining([
        `${models} -> ${middle}:${models}`,
        `${middle}:${models} -> ${last}:${models}`,
        `${last}:${models} -> ${last}:${head}`,
      ]),
    );

    const hidden = await findLineage(driver, anonymous, {
      projectPath: first,
      filePath: models,
      direction: 'DOWNSTREAM',
    });
    expect(ids(hidden).filter((id) => id.startsWith(middle) || id.startsWith(last))).toEqual([]);
  });

  it('counts going into another project as a step of depth', async () => {
    const upTo = async (depth: number) =>
      ids(
        await findLineage(driver, bea, {
          projectPath: last,
          filePath: 'intermediate',
          direction: 'UPSTREAM',
          depth,
        }),
      );

    expect(await upTo(1)).toEqual([...upstreamOfLast].sort());
    expect(await upTo(2)).toEqual(
      [...upstreamOfLast, `${middle}:${models}`, `${middle}:${colors}`].sort(),
    );
    expect(await upTo(3)).toContain(`${first}:${models}`);
  });

  it('stays in the project when asked to', async () => {
    const lineage = await findLineage(driver, bea, {
      projectPath: last,
      filePath: 'intermediate',
      direction: 'UPSTREAM',
      acrossProjects: false,
    });
    expect(ids(lineage)).toEqual([...upstreamOfLast].sort());
  });
});

describe('the lineage subgraph over HTTP', () => {
  let running: Running;

  beforeAll(async () => {
    running = await startLineageSubgraph(
      { port: 0, host: '127.0.0.1', neo4j: { uri: database.url } },
      log,
    );
  });

  afterAll(async () => {
    await running?.stop();
  });

  async function post(query: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, text: await response.text() };
  }

  it('answers the lineage query with plain integers and strings', async () => {
    const { text } = await post(
      `query ($project: String!, $file: String!) {
        lineage(projectPath: $project, filePath: $file, direction: UPSTREAM, depth: 1) {
          nodes { id location label type }
          edges { source target }
        }
      }`,
      { project: zhbikes, file: 'data/preprocessed/zhbikes.parquet' },
    );
    expect(text).not.toMatch(/"low"|"high"/);
    const body = JSON.parse(text);
    expect(body.errors).toBeUndefined();
    expect(body.data.lineage.nodes).toContainEqual({
      id: cleanRun,
      location: cleanRun,
      label: 'python src/clean_data.py data/zhbikes data/preprocessed/zhbikes.parquet',
      type: 'ProcessRun',
    });
  });

  it('resolves Project.lineage from a representation', async () => {
    const { text } = await post(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Project { path lineage(filePath: "figs/grid_plot.png", direction: UPSTREAM, depth: 1) { nodes { id type } } }
        }
      }`,
      { representations: [{ __typename: 'Project', path: zhbikes }] },
    );
    const body = JSON.parse(text);
    expect(body.errors).toBeUndefined();
    expect(body.data._entities[0].lineage.nodes).toContainEqual({
      id: plotRun,
      type: 'ProcessRun',
    });
  });

  it('sends NOT_FOUND with the subgraph name for a file without lineage', async () => {
    const { text } = await post(
      `{ lineage(projectPath: "${zhbikes}", filePath: "README.md") { nodes { id } } }`,
    );
    const body = JSON.parse(text);
    expect(body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', subgraph: 'lineage' });
  });

  it("keeps answering the query shape of Renku's old lineage API", async () => {
    const { text } = await post(
      `query ($projectPath: String!, $filePath: String!) {
        lineage(projectPath: $projectPath, filePath: $filePath) {
          nodes { id location label type }
          edges { source target }
        }
      }`,
      { projectPath: zhbikes, filePath: 'data/preprocessed/zhbikes.parquet' },
    );
    const body = JSON.parse(text);
    expect(body.errors).toBeUndefined();
    expect(body.data.lineage.nodes).toHaveLength(8);
    expect(body.data.lineage.edges).toHaveLength(7);
  });

  it('tells each run of a lineage answer with its plan, values and who ran it', async () => {
    const { text } = await post(
      `{ lineage(projectPath: "${zhbikes}", filePath: "data/preprocessed/zhbikes.parquet", direction: UPSTREAM) {
          nodes { id type run { id command startedAt endedAt inputs { path type } outputs { path }
                                parameters { name } agents { name email } } }
      } }`,
    );
    const body = JSON.parse(text);
    expect(body.errors).toBeUndefined();
    const byId = new Map(body.data.lineage.nodes.map((node: { id: string }) => [node.id, node]));
    expect(byId.get('data/zhbikes')).toMatchObject({ type: 'Directory', run: null });
    expect(byId.get(cleanRun)).toEqual({
      id: cleanRun,
      type: 'ProcessRun',
      run: {
        id: cleanRun,
        command: 'python src/clean_data.py data/zhbikes data/preprocessed/zhbikes.parquet',
        startedAt: '2018-09-04T10:40:25.000Z',
        endedAt: expect.stringMatching(/^2018-09-04T10:4\d:\d\d\.000Z$/),
        inputs: [
          { path: 'data/zhbikes', type: 'Directory' },
          { path: 'src/clean_data.py', type: 'File' },
        ],
        outputs: [{ path: 'data/preprocessed/zhbikes.parquet' }],
        parameters: [],
        agents: [{ name: expect.any(String), email: expect.stringContaining('@') }],
      },
    });
  });

  it('answers NOT_FOUND for a run the project does not have', async () => {
    const { text } = await post(`{ run(projectPath: "${zhbikes}", id: "/nope#") { id } }`);
    expect(JSON.parse(text).errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('lists what is outdated when a file of the tutorial changes', async () => {
    const impact = async (file: string) => {
      const { text } = await post(
        `{ impact(projectPath: "${zhbikes}", filePath: "${file}") {
            path type distance producer { id command } } }`,
      );
      const body = JSON.parse(text);
      expect(body.errors).toBeUndefined();
      return body.data.impact;
    };
    expect(await impact('data/zhbikes')).toEqual([
      {
        path: 'data/preprocessed/zhbikes.parquet',
        type: 'File',
        distance: 1,
        producer: {
          id: cleanRun,
          command: 'python src/clean_data.py data/zhbikes data/preprocessed/zhbikes.parquet',
        },
      },
      expect.objectContaining({ path: 'figs/cumulative.png', distance: 2 }),
      expect.objectContaining({ path: 'figs/grid_plot.png', distance: 2 }),
    ]);
    expect((await impact('src/plot_data.py')).map((file: { path: string }) => file.path)).toEqual([
      'figs/cumulative.png',
      'figs/grid_plot.png',
    ]);
    expect(await impact('figs/grid_plot.png')).toEqual([]);
  });

  it('pages through the workflow graph of a project from its representation', async () => {
    const page = async (after: string | null) => {
      const { text } = await post(
        `query ($representations: [_Any!]!, $after: String) {
          _entities(representations: $representations) {
            ... on Project { workflowGraph(first: 1, after: $after) {
              runs { id } edges { source target } totalCount pageInfo { hasNextPage endCursor } } }
          }
        }`,
        { representations: [{ __typename: 'Project', path: zhbikes }], after },
      );
      const body = JSON.parse(text);
      expect(body.errors).toBeUndefined();
      return body.data._entities[0].workflowGraph;
    };
    const first = await page(null);
    expect(first).toMatchObject({ runs: [{ id: cleanRun }], totalCount: 2 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(first.pageInfo.endCursor);
    expect(second.runs).toEqual([{ id: plotRun }]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(second.edges).toContainEqual({ source: plotRun, target: 'figs/grid_plot.png' });

    const { text } = await post(
      `{ workflowGraph(projectPath: "${zhbikes}", first: 1, after: "garbage") { totalCount } }`,
    );
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('reads the workflow graphs and statuses of a list together, hiding what it must', async () => {
    const hidden = newProject();
    await ingestDocument(driver, { projectPath: hidden, visibility: 'private' }, tutorial);
    const { text } = await post(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Project {
            path
            workflowGraph(first: 1) { runs { id } totalCount pageInfo { hasNextPage } }
            lineageStatus { activated progress { total } }
          }
        }
      }`,
      {
        representations: [zhbikes, hidden, 'nobody/nothing', zhbikes].map((projectPath) => ({
          __typename: 'Project',
          path: projectPath,
        })),
      },
    );
    const body = JSON.parse(text);
    const graph = { runs: [{ id: cleanRun }], totalCount: 2, pageInfo: { hasNextPage: true } };
    for (const i of [0, 3]) {
      expect(body.data._entities[i]).toMatchObject({
        workflowGraph: graph,
        lineageStatus: { activated: false, progress: { total: 0 } },
      });
    }
    // A private project is as missing as a project that is not there: NOT_FOUND for both.
    for (const i of [1, 2]) {
      expect(body.data._entities[i]).toMatchObject({ workflowGraph: null, lineageStatus: null });
    }
    expect(body.errors).toHaveLength(4);
    for (const error of body.errors) {
      expect([1, 2]).toContain(error.path[1]);
      expect(error.extensions.code).toBe('NOT_FOUND');
    }
  });

  it('answers pages of different sizes and cursors of one project in one request', async () => {
    const first = await post(
      `{ workflowGraph(projectPath: "${zhbikes}", first: 1) { pageInfo { endCursor } } }`,
    );
    const after = JSON.parse(first.text).data.workflowGraph.pageInfo.endCursor;
    const { text } = await post(
      `query ($after: String) {
        one: workflowGraph(projectPath: "${zhbikes}", first: 1) { runs { id } pageInfo { hasNextPage } }
        all: workflowGraph(projectPath: "${zhbikes}", first: 5) { runs { id } pageInfo { hasNextPage } }
        rest: workflowGraph(projectPath: "${zhbikes}", first: 1, after: $after) { runs { id } totalCount }
      }`,
      { after },
    );
    expect(JSON.parse(text)).toEqual({
      data: {
        one: { runs: [{ id: cleanRun }], pageInfo: { hasNextPage: true } },
        all: { runs: [{ id: cleanRun }, { id: plotRun }], pageInfo: { hasNextPage: false } },
        rest: { runs: [{ id: plotRun }], totalCount: 2 },
      },
    });
  });

  it('exports a lineage answer as Graphviz DOT', async () => {
    const { text } = await post(
      `{ lineage(projectPath: "${zhbikes}", filePath: "data/preprocessed/zhbikes.parquet") {
          nodes { id } edges { source target } dot } }`,
    );
    const { nodes, edges, dot } = JSON.parse(text).data.lineage;
    const lines: string[] = dot.trim().split('\n');
    expect(lines[0]).toBe('digraph lineage {');
    expect(lines.at(-1)).toBe('}');
    const quoted = '"((?:[^"\\\\]|\\\\.)*)"';
    const declared = lines
      .map((line) =>
        new RegExp(`^  ${quoted} \\[label=${quoted}, shape=(box|ellipse|folder)\\];$`).exec(line),
      )
      .filter((match): match is RegExpExecArray => match !== null);
    const drawn = lines
      .map((line) => new RegExp(`^  ${quoted} -> ${quoted};$`).exec(line))
      .filter((match): match is RegExpExecArray => match !== null);
    // Every line is a header, a node, an edge or the end.
    expect(2 + declared.length + drawn.length + 1).toBe(lines.length);
    expect(declared.map((match) => match[1]).sort()).toEqual(
      nodes.map((node: { id: string }) => node.id).sort(),
    );
    expect(declared.find((match) => match[1] === cleanRun)?.[3]).toBe('box');
    expect(drawn.map((match) => `${match[1]} -> ${match[2]}`).sort()).toEqual(
      edges
        .map((edge: { source: string; target: string }) => `${edge.source} -> ${edge.target}`)
        .sort(),
    );
  });

  it('exports a lineage answer as PROV JSON-LD that a JSON-LD processor expands', async () => {
    const { text } = await post(
      `{ lineage(projectPath: "${zhbikes}", filePath: "data/preprocessed/zhbikes.parquet", direction: UPSTREAM) {
          provJsonLd } }`,
    );
    const document = JSON.parse(JSON.parse(text).data.lineage.provJsonLd);
    const nodes = await expandDocument(document);
    const prov = 'http://www.w3.org/ns/prov#';
    const byLabel = (label: string) =>
      nodes.find((node) =>
        (node['http://www.w3.org/2000/01/rdf-schema#label'] as { '@value': string }[])?.some(
          (value) => value['@value'] === label,
        ),
      )!;
    const run = byLabel('python src/clean_data.py data/zhbikes data/preprocessed/zhbikes.parquet');
    const parquet = byLabel('data/preprocessed/zhbikes.parquet');
    const folder = byLabel('data/zhbikes');
    expect(run['@type']).toEqual([`${prov}Activity`]);
    expect(folder['@type']).toEqual([`${prov}Entity`, `${prov}Collection`]);
    expect(run[`${prov}used`]).toEqual(
      expect.arrayContaining([
        { '@id': folder['@id'] },
        { '@id': byLabel('src/clean_data.py')['@id'] },
      ]),
    );
    expect(parquet[`${prov}wasGeneratedBy`]).toEqual([{ '@id': run['@id'] }]);
    expect(parquet[`${prov}atLocation`]).toEqual([
      { '@value': 'data/preprocessed/zhbikes.parquet' },
    ]);
  });

  it('names where a file came from when its dataset was imported from another project', async () => {
    const text = readFileSync(path.join(__dirname, 'fixtures/renku-2x-flights.jsonld'), 'utf8');
    const stamp = Date.now();
    const originalId = `https://renkulab.io/datasets/original-${stamp}`;
    // The same export with another dataset id; the copy's sameAs names the original.
    const withDataset = (id: string, identifier: string) =>
      text
        .replaceAll('https://renkulab.io/datasets/d1', id)
        .replace('"schema:identifier": "d1"', `"schema:identifier": "${identifier}"`);
    const original = JSON.parse(withDataset(originalId, `original-${stamp}`));
    const copy = JSON.parse(
      withDataset(`https://renkulab.io/datasets/copy-${stamp}`, `copy-${stamp}`).replace(
        '"schema:url": { "@id": "https://zenodo.org/record/0000000" }',
        `"schema:url": { "@id": "${originalId}" }`,
      ),
    );
    const [source, hidden, target] = [newProject(), newProject(), newProject()];
    await ingestDocument(driver, { projectPath: source, visibility: 'public' }, original);
    await ingestDocument(driver, { projectPath: hidden, visibility: 'private' }, original);
    await ingestDocument(driver, { projectPath: target, visibility: 'public' }, copy);

    const { text: answer } = await post(
      `{ lineage(projectPath: "${target}", filePath: "intermediate", direction: UPSTREAM) {
          nodes { id origins { project { path } path dataset via } } } }`,
    );
    const body = JSON.parse(answer);
    expect(body.errors).toBeUndefined();
    const origins = new Map(
      body.data.lineage.nodes.map((node: { id: string; origins: unknown[] }) => [
        node.id,
        node.origins,
      ]),
    );
    expect(origins.get('data/collection/models.csv')).toEqual([
      {
        project: { path: source },
        path: 'data/collection/models.csv',
        dataset: 'collection',
        via: 'sameAs',
      },
    ]);
    expect(origins.get('intermediate')).toEqual([]);
    expect(origins.get('https://renkulab.io/activities/a1')).toEqual([]);
  });

  it('names the project and commit that produced each node, to start a session there', async () => {
    const { text } = await post(
      `{ lineage(projectPath: "${zhbikes}", filePath: "data/preprocessed/zhbikes.parquet") {
          nodes { id projectPath project { path } commit run { commit outputs { path commit } } } } }`,
    );
    const body = JSON.parse(text);
    expect(body.errors).toBeUndefined();
    const byId = new Map(body.data.lineage.nodes.map((node: { id: string }) => [node.id, node]));
    const cleanCommit = '07b64b6cd153cf7988e2f9cca41c58e296f57b75';
    expect(byId.get(cleanRun)).toEqual({
      id: cleanRun,
      projectPath: zhbikes,
      project: { path: zhbikes },
      commit: cleanCommit,
      run: {
        commit: cleanCommit,
        outputs: [{ path: 'data/preprocessed/zhbikes.parquet', commit: cleanCommit }],
      },
    });
    // The file's version is the one its producer wrote; a plain input's the one a run used.
    expect(byId.get('data/preprocessed/zhbikes.parquet')).toMatchObject({ commit: cleanCommit });
    expect(byId.get('data/zhbikes')).toMatchObject({
      commit: 'dda09be8bc7e60201298ad576aa72c5f9ff16bc8',
      run: null,
    });
    expect(byId.get(plotRun)).toMatchObject({ commit: plotRun.slice(1, 41) });
  });

  it('answers the lineage of several projects of one request in the order asked', async () => {
    const other = newProject();
    const otherRun = `/${sha('other plot')}#`;
    await ingestDocument(
      driver,
      { projectPath: other, visibility: 'public' },
      zeroXDocument(
        [
          {
            commit: sha('other plot'),
            command: 'python other.py',
            used: ['numbers.csv'],
            generated: ['figs/grid_plot.png'],
            at: '2020-01-01T10:00:00',
          },
        ],
        [{ commit: sha('numbers'), path: 'numbers.csv' }],
      ),
    );
    const hidden = newProject();
    await ingestDocument(driver, { projectPath: hidden, visibility: 'private' }, tutorial);

    const { text } = await post(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Project { path lineage(filePath: "figs/grid_plot.png", direction: UPSTREAM, depth: 1) { nodes { id } } }
        }
      }`,
      {
        representations: [other, zhbikes, hidden, other].map((projectPath) => ({
          __typename: 'Project',
          path: projectPath,
        })),
      },
    );
    const body = JSON.parse(text);
    const runsOf = (entity: { lineage: Lineage }) =>
      entity.lineage.nodes.map((node) => node.id).filter((id) => id.endsWith('#'));
    expect(runsOf(body.data._entities[0])).toEqual([otherRun]);
    expect(runsOf(body.data._entities[1])).toEqual([plotRun]);
    // A project the caller may not see behaves as before: its field fails, NOT_FOUND.
    expect(body.data._entities[2]).toEqual({ path: hidden, lineage: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['_entities', 2, 'lineage'],
        extensions: expect.objectContaining({ code: 'NOT_FOUND' }),
      }),
    ]);
    expect(runsOf(body.data._entities[3])).toEqual([otherRun]);
  });

  it('reports itself healthy while Neo4j answers', async () => {
    const response = await fetch(running.url.replace(/\/graphql$/, '/health'));
    expect(response.status).toBe(200);
  });
});
