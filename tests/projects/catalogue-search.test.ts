import neo4j, { ManagedTransaction, type Driver } from 'neo4j-driver';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { applyGraphSchema } from '../../subgraphs/lineage/src/graph-schema';
import { ingestDatasetYaml } from '../../subgraphs/lineage/src/ingest/dataset-yaml';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { startIssuer, type Issuer } from './issuer';

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const log = createLogger('projects-test', 'silent');
const audience = 'renku-supergraph';
const oldProject = 'bo.builder/old-datasets-v0.9.1';
const oldIdentifier = '7f7cbaac-1b7c-4f1b-a8d3-37c3f1964c6b';
const course = 'sdsc/teaching/hs2026/flights-course';
const bulkPaths = Array.from(
  { length: 100 },
  (_, i) => `bulk/project-${String(i + 1).padStart(3, '0')}`,
);

describe('datasets and search on a real Neo4j', () => {
  let dataDir: string;
  let graph: Awaited<ReturnType<typeof startNeo4j>>;
  let driver: Driver;
  let issuer: Issuer;
  let subgraph: Running;

  beforeAll(async () => {
    await provisionNeo4j();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'projects-search-'));
    graph = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });
    driver = neo4j.driver(graph.url);

    // As in production: the graph schema first, then ingestion, then the subgraph.
    await applyGraphSchema(driver, log);
    const yaml = fs.readFileSync(
      path.join(__dirname, 'fixtures/old-datasets-v0.9.1.metadata.yml'),
      'utf8',
    );
    await ingestDatasetYaml(driver, { projectPath: oldProject, visibility: 'public' }, yaml);
    await seed(driver);

    issuer = await startIssuer(audience);
    const config = readProjectsConfig({
      PORT: '0',
      NEO4J_URI: graph.url,
      KEYCLOAK_ISSUER: issuer.url,
      KEYCLOAK_AUDIENCE: audience,
    });
    subgraph = await startProjectsSubgraph(config, log);
  });

  afterAll(async () => {
    await subgraph?.stop();
    await issuer?.stop();
    await driver?.close();
    await graph?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function ask(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
  ): Promise<Answer> {
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Answer;
  }

  /** Runs one search and returns its edges as `TYPE name` strings. */
  async function hits(args: string, token?: string): Promise<string[]> {
    const answer = await ask(
      `{ search(${args}, first: 100) { edges { node { __typename ...Named } } } }
       fragment Named on SearchHit {
         ... on Project { name } ... on Dataset { name } ... on Workflow { name }
         ... on Person { name }
       }`,
      {},
      token,
    );
    expect(answer.errors).toBeUndefined();
    return answer.data!.search.edges.map(
      (edge: { node: { __typename: string; name: string } }) =>
        `${edge.node.__typename} ${edge.node.name}`,
    );
  }

  const fullDataset = `
    projectPath identifier name slug description keywords license sameAs derivedFrom
    initialVersion version created published modified
    creators { name email affiliation }
    tags { name date description }
    files { location added source }
    project { path name }
    usedIn { path }`;

  describe('the renku 0.9.1 dataset', () => {
    const expected = {
      projectPath: oldProject,
      identifier: oldIdentifier,
      name: '2019-01 US Flights',
      slug: '201901_us_flights_1',
      description:
        'Flight data from the US Department of Transportation, Bureau of Transportation ' +
        'Statistics. Downloaded on 2019-07-04. https://www.transtats.bts.gov Data are here ' +
        'for use in software tutorials.',
      keywords: ['Computer and Information Science', 'flight data', 'software tutorial data'],
      license: 'https://creativecommons.org/publicdomain/zero/1.0/',
      sameAs: 'https://doi.org/10.7910/DVN/WTZS4K',
      derivedFrom: null,
      initialVersion: oldIdentifier,
      version: '1',
      created: '2020-10-09T07:57:32.588Z',
      published: null,
      modified: null,
      creators: [{ name: 'Curie, Cora', email: null, affiliation: 'ETH Zürich' }],
      tags: [
        {
          name: '1',
          date: '2020-10-09T07:57:38.045Z',
          description: 'Tag 1 created by renku import',
        },
      ],
      files: [
        {
          location: 'data/201901_us_flights_1/2019-01-flights.csv.zip',
          added: '2020-10-09T07:57:37.939Z',
          source: 'https://dataverse.harvard.edu/api/access/datafile/3661033',
        },
      ],
      project: { path: oldProject, name: 'old-datasets-v0.9.1' },
      // The course imported the same Dataverse dataset.
      usedIn: [{ path: oldProject }, { path: course }],
    };

    it('answers every field by identifier and by slug', async () => {
      const answer = await ask(
        `query ($project: String!, $identifier: String!) {
          byIdentifier: dataset(projectPath: $project, identifier: $identifier) { ${fullDataset} }
          bySlug: dataset(projectPath: $project, slug: "201901_us_flights_1") { identifier }
        }`,
        { project: oldProject, identifier: oldIdentifier },
      );

      expect(answer.errors).toBeUndefined();
      expect(answer.data?.byIdentifier).toEqual(expected);
      expect(answer.data?.bySlug).toEqual({ identifier: oldIdentifier });
    });

    it("is among its project's datasets, with the project's catalogue facts", async () => {
      const answer = await ask(
        `{ project(path: "${oldProject}") { name created datasets { identifier files { location } } } }`,
      );

      expect(answer.errors).toBeUndefined();
      expect(answer.data?.project).toEqual({
        name: 'old-datasets-v0.9.1',
        created: '2020-08-10T21:34:39.891Z',
        datasets: [
          { identifier: oldIdentifier, files: [{ location: expected.files[0].location }] },
        ],
      });
    });
  });

  it('resolves dataset representations in their order, null for missing or hidden, in one query', async () => {
    const order = [
      { projectPath: course, identifier: 'course-flights' },
      { projectPath: oldProject, identifier: 'no-such-dataset' },
      { projectPath: 'ada.analyst/secret-flights', identifier: 'secret-flights' },
      { projectPath: oldProject, identifier: oldIdentifier },
    ];
    const runs = jest.spyOn(ManagedTransaction.prototype, 'run');

    let answer: Answer | undefined;
    try {
      answer = await ask(
        `query ($representations: [_Any!]!) {
          _entities(representations: $representations) { ... on Dataset { projectPath slug } }
        }`,
        { representations: order.map((key) => ({ __typename: 'Dataset', ...key })) },
      );
      expect(runs).toHaveBeenCalledTimes(1);
    } finally {
      runs.mockRestore();
    }

    expect(answer?.errors).toBeUndefined();
    expect(answer?.data?._entities).toEqual([
      { projectPath: course, slug: 'flights' },
      null,
      null,
      { projectPath: oldProject, slug: '201901_us_flights_1' },
    ]);
  });

  it('makes as many Neo4j queries for 100 projects with their datasets as for 10', async () => {
    const query = `query ($first: Int!) {
      projects(first: $first) {
        edges { node {
          path datasets { name creators { name } files { location } usedIn { path } } } }
      }
    }`;
    const counted = async (first: number) => {
      const runs = jest.spyOn(ManagedTransaction.prototype, 'run');
      try {
        const answer = await ask(query, { first });
        expect(answer.errors).toBeUndefined();
        expect(answer.data?.projects.edges).toHaveLength(first);
        const datasets = answer.data?.projects.edges.flatMap(
          (edge: { node: { datasets: unknown[] } }) => edge.node.datasets,
        );
        expect(datasets.length).toBeGreaterThanOrEqual(first);
        return runs.mock.calls.length;
      } finally {
        runs.mockRestore();
      }
    };

    const forTen = await counted(10);
    const forHundred = await counted(100);
    // The page, the datasets, their files and the projects using them: one query each.
    expect(forTen).toBe(4);
    expect(forHundred).toBe(forTen);
  });

  describe('search', () => {
    it('finds by keyword, by description and by creator', async () => {
      expect((await hits('query: "software tutorial", types: [DATASET]')).sort()).toEqual([
        'Dataset 2019-01 US Flights',
      ]);
      expect(await hits('query: "Basel"')).toEqual(['Project Weather']);
      expect((await hits('query: "Curie"')).sort()).toEqual([
        'Dataset 2019-01 US Flights',
        'Person Curie, Cora',
      ]);
    });

    it('finds people who only ran workflows, in projects the caller may see', async () => {
      expect(await hits('query: "Runner"')).toEqual(['Person Rita Runner']);
      expect(await hits('query: "Oldrun"')).toEqual(['Person Olga Oldrun']);
      expect(await hits('query: "Shadow"')).toEqual([]);
    });

    it('hides what anonymous callers may not see and shows internal projects to users', async () => {
      expect((await hits('query: "flight"')).sort()).toEqual([
        'Dataset 2019-01 US Flights',
        'Dataset 2019-01 US Flights',
        'Project Flights course',
        'Workflow flight-delays',
      ]);
      expect(await hits('query: "flight", visibility: [PRIVATE, INTERNAL]')).toEqual([]);

      const token = issuer.sign();
      expect(await hits('query: "flight", visibility: [INTERNAL]', token)).toEqual([
        'Project Staff flights',
      ]);
    });

    it('shows a private project to its members only (#4)', async () => {
      await driver.executeQuery(
        `MATCH (p:Project {path: 'ada.analyst/secret-flights'})
         MERGE (:Member {username: 'ada.analyst'})-[:MEMBER_OF {role: 'owner'}]->(p)`,
      );
      try {
        const ada = issuer.sign();
        const bob = issuer.sign({ sub: 'user-bob', preferred_username: 'bob.builder' });
        const lookup = '{ project(path: "ada.analyst/secret-flights") { name } }';

        expect((await ask(lookup, {}, ada)).data).toEqual({ project: { name: 'Secret flights' } });
        expect((await ask(lookup, {}, bob)).data).toEqual({ project: null });
        expect((await ask(lookup)).data).toEqual({ project: null });
        expect(await hits('query: "secret", types: [PROJECT]', ada)).toEqual([
          'Project Secret flights',
        ]);
        expect(await hits('query: "secret", types: [PROJECT]', bob)).toEqual([]);
        expect(await hits('query: "secret", types: [PROJECT], visibility: [PUBLIC]', ada)).toEqual(
          [],
        );
      } finally {
        await driver.executeQuery(
          "MATCH (:Member {username: 'ada.analyst'})-[m:MEMBER_OF]->() DELETE m",
        );
      }
    });

    it('filters by type, creator, namespace and creation date', async () => {
      expect((await hits('types: [PROJECT], creator: ["ben BAYES"]')).sort()).toEqual([
        'Project Flights course',
        'Project Weather',
      ]);
      expect((await hits('namespace: ["sdsc/"]')).sort()).toEqual([
        'Dataset 2019-01 US Flights',
        'Project Flights course',
        'Workflow flight-delays',
      ]);
      expect(
        await hits(
          'types: [PROJECT], since: "2021-01-01T00:00:00Z", until: "2022-12-31T23:59:59Z"',
        ),
      ).toEqual(['Project tutorial-zhbikes']);
    });

    it("filters by the caller's membership role and refuses the filter to anonymous callers (#4)", async () => {
      const anonymousAnswer = await ask('{ search(role: [OWNER]) { totalCount } }');
      expect(anonymousAnswer.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED' });

      await driver.executeQuery(
        `UNWIND [['ada.analyst/tutorial-zhbikes', 'owner'], ['sdsc/staff-only', 'maintainer'],
                 ['ben.bayes/weather', 'reader']] AS row
         MATCH (p:Project {path: row[0]})
         MERGE (m:Member {username: 'ada.analyst'})
         MERGE (m)-[:MEMBER_OF {role: row[1]}]->(p)`,
      );
      try {
        const ada = issuer.sign();
        const bob = issuer.sign({ sub: 'user-bob', preferred_username: 'bob.builder' });

        expect(await hits('types: [PROJECT], role: [OWNER]', ada)).toEqual([
          'Project tutorial-zhbikes',
        ]);
        expect((await hits('types: [PROJECT], role: [OWNER, MAINTAINER]', ada)).sort()).toEqual([
          'Project Staff flights',
          'Project tutorial-zhbikes',
        ]);
        expect(await hits('types: [PROJECT], role: [READER]', ada)).toEqual(['Project Weather']);
        expect(await hits('role: [OWNER, MAINTAINER, READER]', bob)).toEqual([]);
      } finally {
        await driver.executeQuery(
          "MATCH (:Member {username: 'ada.analyst'})-[m:MEMBER_OF]->() DELETE m",
        );
      }

      const forged = await ask(
        '{ search { totalCount } }',
        {},
        `${issuer.sign().slice(0, -4)}AAAA`,
      );
      expect(forged.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it.each([
      ['NAME', 'ASC', ['Flights course', 'old-datasets-v0.9.1', 'tutorial-zhbikes', 'Weather']],
      ['NAME', 'DESC', ['Weather', 'tutorial-zhbikes', 'old-datasets-v0.9.1', 'Flights course']],
      ['DATE', 'DESC', ['Flights course', 'tutorial-zhbikes', 'old-datasets-v0.9.1', 'Weather']],
      [
        'DATE_MODIFIED',
        'ASC',
        ['Weather', 'old-datasets-v0.9.1', 'tutorial-zhbikes', 'Flights course'],
      ],
    ])('sorts by %s %s', async (field, direction, names) => {
      const found = await hits(
        `types: [PROJECT], namespace: ["ada.analyst", "ben.bayes", "bo.builder", "sdsc"],
         sort: { field: ${field}, direction: ${direction} }`,
      );
      expect(found).toEqual(names.map((name) => `Project ${name}`));
    });

    it('ranks better matches first', async () => {
      const answer = await ask(
        '{ search(query: "flights course") { edges { matchingScore node { ... on Project { name } } } } }',
      );
      expect(answer.errors).toBeUndefined();
      const edges = answer.data!.search.edges;
      expect(edges[0].node).toEqual({ name: 'Flights course' });
      const scores = edges.map((edge: { matchingScore: number }) => edge.matchingScore);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });

    it.each([
      ['NAME', 'ASC', 'types: [PROJECT], namespace: ["bulk"]', 40],
      ['MATCHING_SCORE', 'DESC', 'query: "flight data bulk"', 30],
      ['DATE', 'DESC', 'namespace: ["bulk", "sdsc"]', 70],
    ])('pages through every hit once, sorted by %s %s', async (field, direction, filter, size) => {
      const everything = await ask(
        `{ search(${filter}, sort: { field: ${field}, direction: ${direction} }, first: 100) {
            totalCount edges { cursor } } }`,
      );
      expect(everything.errors).toBeUndefined();
      const total: number = everything.data!.search.totalCount;
      expect(total).toBeGreaterThan(size);

      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const answer = await ask(
          `query ($after: String) {
            search(${filter}, sort: { field: ${field}, direction: ${direction} }, first: ${size},
                   after: $after) {
              totalCount edges { cursor } pageInfo { hasNextPage endCursor }
            }
          }`,
          { after },
        );
        expect(answer.errors).toBeUndefined();
        const page = answer.data!.search;
        expect(page.totalCount).toBe(total);
        seen.push(...page.edges.map((edge: { cursor: string }) => edge.cursor));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }

      expect(seen).toHaveLength(total);
      if (total <= 100) {
        expect(seen).toEqual(
          everything.data!.search.edges.map((e: { cursor: string }) => e.cursor),
        );
      }
    });

    it('counts facets over all hits', async () => {
      const answer = await ask(
        `{ search(query: "flight", first: 1) {
            totalCount
            edges { cursor }
            facets {
              types { value count } visibilities { value count }
              namespaces { value count } creators { value count }
            }
        } }`,
      );

      expect(answer.errors).toBeUndefined();
      expect(answer.data?.search).toEqual({
        totalCount: 4,
        edges: [expect.anything()],
        facets: {
          types: [
            { value: 'DATASET', count: 2 },
            { value: 'PROJECT', count: 1 },
            { value: 'WORKFLOW', count: 1 },
          ],
          visibilities: [{ value: 'PUBLIC', count: 4 }],
          namespaces: [
            { value: 'sdsc/teaching/hs2026', count: 3 },
            { value: 'bo.builder', count: 1 },
          ],
          creators: [
            { value: 'Ben Bayes', count: 3 },
            { value: 'Curie, Cora', count: 1 },
          ],
        },
      });
    });

    it.each([
      '"',
      '\\',
      'AND',
      'OR NOT',
      '*',
      '?ight',
      'name:flight',
      '(((',
      '[a TO z]',
      '{!}',
      'flight~1',
      '/fl.*/',
      'flight^100',
      '+-&&||!(){}[]^"~*?:\\/',
      "'; MATCH (n) DETACH DELETE n //",
      'a'.repeat(201),
      Array.from({ length: 40 }, () => 'flight').join(' '),
      '\u0000 flight',
    ])('answers the hostile query %j without an internal error', async (query) => {
      const answer = await ask(
        'query ($query: String) { search(query: $query) { totalCount edges { cursor } } }',
        { query },
      );

      if (answer.errors) {
        expect(answer.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      } else {
        expect(answer.data?.search.totalCount).toBeGreaterThanOrEqual(0);
      }
      const still = await ask(`{ project(path: "${course}") { path } }`);
      expect(still.data?.project).toEqual({ path: course });
    });

    it.each([
      ['first: 0', '{ search(first: 0) { totalCount } }'],
      ['first: 101', '{ search(first: 101) { totalCount } }'],
      ['a cursor of another order', '{ search(after: "WyJwYXRoIiwiYS9iIl0") { totalCount } }'],
      [
        'since after until',
        '{ search(since: "2022-01-01T00:00:00Z", until: "2021-01-01T00:00:00Z") { totalCount } }',
      ],
      [
        'a dataset named twice',
        `{ dataset(projectPath: "${oldProject}", slug: "a", identifier: "b") { name } }`,
      ],
    ])('refuses %s with BAD_USER_INPUT', async (_label, query) => {
      const answer = await ask(query);
      expect(answer.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    });
  });
});

const ada = {
  id: 'mailto:ada.analyst@example.org',
  name: 'Ada Analyst',
  email: 'ada.analyst@example.org',
};
const ben = {
  id: 'mailto:ben.bayes@example.org',
  name: 'Ben Bayes',
  email: 'ben.bayes@example.org',
};

/** The rest of the catalogue, written the way lineage ingestion writes it. */
async function seed(driver: Driver): Promise<void> {
  const projects = [
    {
      path: 'ada.analyst/tutorial-zhbikes',
      name: 'tutorial-zhbikes',
      visibility: 'public',
      description: 'Bicycle counts in Zurich',
      keywords: ['bikes', 'zurich'],
      createdAt: '2021-03-04T09:15:00.000Z',
      modifiedAt: '2022-01-02T03:04:05.000Z',
      creator: ada.id,
    },
    {
      path: course,
      name: 'Flights course',
      visibility: 'public',
      description: 'Teaching with US flight delays',
      keywords: ['teaching'],
      createdAt: '2026-09-01T08:00:00.000Z',
      modifiedAt: '2026-10-01T08:00:00.000Z',
      creator: ben.id,
    },
    {
      path: 'ben.bayes/weather',
      name: 'Weather',
      visibility: 'public',
      description: 'Rain in Basel',
      keywords: [],
      createdAt: '2019-05-05T10:00:00.000Z',
      modifiedAt: '2019-06-01T10:00:00.000Z',
      creator: ben.id,
    },
    {
      path: 'sdsc/staff-only',
      name: 'Staff flights',
      visibility: 'internal',
      description: 'Where the staff flew',
      keywords: [],
      createdAt: '2024-01-01T00:00:00.000Z',
      modifiedAt: null,
      creator: ada.id,
    },
    {
      path: 'ada.analyst/secret-flights',
      name: 'Secret flights',
      visibility: 'private',
      description: 'secret flight data',
      keywords: [],
      createdAt: '2024-01-01T00:00:00.000Z',
      modifiedAt: null,
      creator: ada.id,
    },
    ...bulkPaths.map((p, i) => ({
      path: p,
      name: `Bulk ${String(i + 1).padStart(3, '0')}`,
      visibility: 'public',
      description: null,
      keywords: [],
      createdAt: null,
      modifiedAt: null,
      creator: null,
    })),
  ];
  const datasets = [
    {
      projectPath: course,
      id: 'https://localhost/datasets/course-flights',
      identifier: 'course-flights',
      name: '2019-01 US Flights',
      slug: 'flights',
      sameAs: 'https://doi.org/10.7910/DVN/WTZS4K',
      createdAt: '2026-09-02T08:00:00.000Z',
      creator: ben.id,
    },
    {
      projectPath: 'ada.analyst/secret-flights',
      id: 'https://localhost/datasets/secret-flights',
      identifier: 'secret-flights',
      name: 'Secret flights',
      slug: 'secret',
      sameAs: null,
      createdAt: '2024-01-02T00:00:00.000Z',
      creator: ada.id,
    },
    ...bulkPaths.flatMap((p, i) =>
      ['a', 'b'].map((part) => ({
        projectPath: p,
        id: `https://localhost/datasets/bulk-${i}-${part}`,
        identifier: `bulk-${i}-${part}`,
        name: `Bulk data ${i} ${part}`,
        slug: `bulk_${i}_${part}`,
        sameAs: null,
        createdAt: `2025-01-01T00:${String(i % 60).padStart(2, '0')}:00.000Z`,
        creator: null,
      })),
    ),
  ];

  const session = driver.session();
  try {
    await session.executeWrite(async (tx) => {
      await tx.run(
        `UNWIND $people AS person
         MERGE (p:Person {id: person.id}) SET p.name = person.name, p.email = person.email`,
        { people: [ada, ben] },
      );
      await tx.run(
        `UNWIND $projects AS row
         CREATE (p:Project {path: row.path, name: row.name, visibility: row.visibility,
           slug: last(split(row.path, '/')), description: row.description, keywords: row.keywords,
           createdAt: row.createdAt, modifiedAt: row.modifiedAt})
         WITH p, row
         MATCH (creator:Person {id: row.creator})
         CREATE (p)-[:CREATED_BY]->(creator)`,
        { projects },
      );
      await tx.run(
        `UNWIND $datasets AS row
         MATCH (p:Project {path: row.projectPath})
         CREATE (d:Dataset {projectPath: row.projectPath, id: row.id, identifier: row.identifier,
           name: row.name, slug: row.slug, sameAs: row.sameAs, createdAt: row.createdAt,
           keywords: []})-[:IN_PROJECT]->(p)
         CREATE (f:File {projectPath: row.projectPath, id: row.id + '/file', path: 'data/' + row.slug + '/data.csv'})
         CREATE (d)-[:HAS_PART {addedAt: row.createdAt}]->(f)
         WITH d, row
         MATCH (creator:Person {id: row.creator})
         CREATE (d)-[:CREATED_BY]->(creator)`,
        { datasets },
      );
      await tx.run(
        `MATCH (p:Project {path: $course}), (ben:Person {id: $ben})
         CREATE (plan:Plan {projectPath: $course, id: '/plans/1', name: 'flight-delays',
           command: 'python src/plot.py'})-[:IN_PROJECT]->(p)
         CREATE (run:Run {projectPath: $course, id: '/activities/1',
           startedAt: '2026-09-03T08:00:00.000Z', endedAt: '2026-09-03T08:05:00.000Z'})
         CREATE (run)-[:IN_PROJECT]->(p)
         CREATE (run)-[:FOLLOWED]->(plan)
         CREATE (run)-[:ASSOCIATED_WITH]->(ben)`,
        { course, ben: ben.id },
      );
      // People who only ran workflows. Ingestion no longer links runs to their project (their
      // projectPath names it); graphs written before still hold that link.
      await tx.run(
        `UNWIND $runs AS row
         MATCH (p:Project {path: row.projectPath})
         CREATE (run:Run {projectPath: row.projectPath, id: row.id})
         CREATE (run)-[:ASSOCIATED_WITH]->(:Person {id: row.person, name: row.name})
         FOREACH (_ IN CASE WHEN row.linked THEN [1] ELSE [] END |
           CREATE (run)-[:IN_PROJECT]->(p))`,
        {
          runs: [
            ['Rita Runner', course, false],
            ['Olga Oldrun', 'ben.bayes/weather', true],
            ['Sam Shadow', 'ada.analyst/secret-flights', false],
          ].map(([name, projectPath, linked], index) => ({
            name,
            projectPath,
            linked,
            id: `/activities/only-runs-${index}`,
            person: `mailto:only-runs-${index}@example.org`,
          })),
        },
      );
    });
  } finally {
    await session.close();
  }
}
