import type { Logger } from '@renku-supergraph/kit';
import neo4j from 'neo4j-driver';

import { projectFields } from './catalogue';
import { datasetFields, toDataset, toPerson, type Dataset, type Person } from './dataset';
import type { GraphReader } from './neo4j';
import { toProject, type Project, type ProjectRow, type Visibility } from './project';
import { accessFilter, type MemberRole } from './visibility';

export type SearchType = 'PROJECT' | 'DATASET' | 'WORKFLOW' | 'PERSON';
export const searchTypes: readonly SearchType[] = ['PROJECT', 'DATASET', 'WORKFLOW', 'PERSON'];

export type SortField = 'matchingScore' | 'name' | 'date' | 'dateModified';

export interface SearchFilter {
  /** From `toLuceneQuery`; null matches everything. */
  lucene: string | null;
  types: readonly SearchType[];
  /** Lower-cased creator names; null: any. */
  creators: string[] | null;
  /** What the caller may see, narrowed to what was asked for. */
  visibilities: Visibility[];
  /** Private projects the caller is a member of, when private ones are asked for. */
  memberOf: string[];
  /** Persons have no visibility: asking for one leaves them out. */
  visibilityAsked: boolean;
  /** A hit's project lies in one of these namespaces or below; null: any. */
  namespaces: string[] | null;
  /** Creation date bounds, epoch milliseconds, inclusive. */
  since: number | null;
  until: number | null;
  /** The `role` filter: hits in projects where this user is a member with one of these roles. */
  membership: { username: string; roles: MemberRole[] } | null;
}

export interface SearchOrder {
  field: SortField;
  descending: boolean;
}

/** Where a page starts: the sort value and node of the last hit seen (keyset paging). */
export interface SearchPosition {
  value: number | string | null;
  key: string;
}

export type SearchNode =
  | { type: 'PROJECT'; node: Project }
  | { type: 'DATASET'; node: Dataset }
  | { type: 'WORKFLOW'; node: Workflow }
  | { type: 'PERSON'; node: Person };

export interface Workflow {
  projectPath: string;
  id: string;
  name: string;
  command: string | null;
}

export interface SearchHit {
  hit: SearchNode;
  score: number;
  position: SearchPosition;
}

export interface FacetCount {
  value: string;
  count: number;
}

export interface SearchFacets {
  total: number;
  types: FacetCount[];
  visibilities: FacetCount[];
  namespaces: FacetCount[];
  creators: FacetCount[];
}

/** How many namespaces and creators a facet lists, the most frequent first. */
export const facetSize = 50;

interface Source {
  label: string;
  index: string;
  /** From a `person` matched by name to the nodes they created. */
  createdBy: string;
}

const sources: Record<SearchType, Source> = {
  PROJECT: {
    label: 'Project',
    index: 'project_search',
    createdBy: '(person)<-[:CREATED_BY]-(node:Project)',
  },
  DATASET: {
    label: 'Dataset',
    index: 'dataset_search',
    createdBy: '(person)<-[:CREATED_BY]-(node:Dataset)',
  },
  WORKFLOW: {
    label: 'Plan',
    index: 'plan_search',
    createdBy: '(person)<-[:ASSOCIATED_WITH]-(:Run)-[:FOLLOWED]->(node:Plan)',
  },
  PERSON: { label: 'Person', index: 'person_search', createdBy: '' },
};

/** Created by the projects subgraph as well as by the graph schema (004-search.cypher). */
export const searchIndexes = [
  'CREATE FULLTEXT INDEX project_search IF NOT EXISTS FOR (n:Project) ON EACH [n.name, n.slug, n.path, n.description, n.keywords]',
  'CREATE FULLTEXT INDEX dataset_search IF NOT EXISTS FOR (n:Dataset) ON EACH [n.name, n.slug, n.description, n.keywords]',
  'CREATE FULLTEXT INDEX plan_search IF NOT EXISTS FOR (n:Plan) ON EACH [n.name, n.command]',
  'CREATE FULLTEXT INDEX person_search IF NOT EXISTS FOR (n:Person) ON EACH [n.name, n.affiliation]',
];

/**
 * The candidates of one type: matched by the index, or created by a person the query names.
 * The type list is ours, never the caller's text, so building Cypher from it is safe.
 */
function candidates(type: SearchType, withQuery: boolean): string {
  const { label, index, createdBy } = sources[type];
  if (!withQuery) return `MATCH (node:${label}) RETURN node, 1.0 AS score`;

  const direct = `CALL db.index.fulltext.queryNodes('${index}', $lucene) YIELD node, score RETURN node, score`;
  if (type === 'PERSON') return direct;
  return `${direct}
    UNION ALL
    CALL db.index.fulltext.queryNodes('person_search', $lucene) YIELD node AS person, score
    MATCH ${createdBy} RETURN node, score`;
}

const toMillis = (value: string) =>
  `CASE WHEN ${value} IS NULL THEN null WHEN ${value} IS :: STRING THEN datetime(${value}).epochMillis ELSE ${value}.epochMillis END`;

/**
 * Every hit the filters let through, with what sorting and facets need. A person shows where a
 * project the caller may see names them: as its creator, as a dataset's creator, or through a
 * run, whose `projectPath` names its project (runs have no `IN_PROJECT` relationship).
 */
function hitsCypher(filter: SearchFilter): string {
  const union = filter.types
    .map((type) => candidates(type, filter.lucene !== null))
    .join('\n    UNION ALL\n    ');

  return `
CALL () {
    ${union}
}
WITH node, max(score) AS score
OPTIONAL MATCH (node)-[:IN_PROJECT]->(home:Project)
WITH node, score, CASE WHEN node:Project THEN node ELSE home END AS project,
     CASE WHEN node:Project THEN 'PROJECT' WHEN node:Dataset THEN 'DATASET'
          WHEN node:Plan THEN 'WORKFLOW' ELSE 'PERSON' END AS type
WHERE CASE type
  WHEN 'PERSON' THEN NOT $visibilityAsked AND (
    EXISTS { MATCH (node)<-[:CREATED_BY]-(seen:Project) WHERE ${accessFilter('seen')} }
    OR EXISTS { MATCH (node)<-[:CREATED_BY]-(:Dataset)-[:IN_PROJECT]->(seen:Project)
                WHERE ${accessFilter('seen')} }
    OR EXISTS { MATCH (node)<-[:ASSOCIATED_WITH]-(run:Run)
                MATCH (seen:Project {path: run.projectPath})
                WHERE ${accessFilter('seen')} })
  WHEN 'DATASET' THEN ${accessFilter('project')} AND node.invalidatedAt IS NULL
    AND NOT EXISTS { MATCH (newer:Dataset {projectPath: node.projectPath})
                     WHERE newer.derivedFrom = node.id }
  ELSE ${accessFilter('project')}
END
WITH node, score, project, type,
     coalesce(node.name, node.slug, node.identifier, node.id, '') AS name,
     CASE WHEN project IS NULL THEN null
          ELSE left(project.path, size(project.path) - size(last(split(project.path, '/'))) - 1)
     END AS namespace,
     CASE type
       WHEN 'PERSON' THEN []
       WHEN 'WORKFLOW' THEN COLLECT { MATCH (node)<-[:FOLLOWED]-(:Run)-[:ASSOCIATED_WITH]->(c:Person) RETURN DISTINCT c.name }
       ELSE COLLECT { MATCH (node)-[:CREATED_BY]->(c:Person) RETURN c.name }
     END AS creators,
     CASE type
       WHEN 'PROJECT' THEN node.createdAt
       WHEN 'DATASET' THEN coalesce(node.publishedAt, node.createdAt)
       WHEN 'WORKFLOW' THEN COLLECT { MATCH (node)<-[:FOLLOWED]-(r:Run) WHERE r.startedAt IS NOT NULL RETURN r.startedAt ORDER BY r.startedAt LIMIT 1 }[0]
     END AS created,
     CASE type
       WHEN 'PROJECT' THEN node.modifiedAt
       WHEN 'DATASET' THEN coalesce(node.modifiedAt, node.publishedAt, node.createdAt)
       WHEN 'WORKFLOW' THEN COLLECT { MATCH (node)<-[:FOLLOWED]-(r:Run) WHERE r.endedAt IS NOT NULL RETURN r.endedAt ORDER BY r.endedAt DESC LIMIT 1 }[0]
     END AS changed
WITH node, score, project, type, name, namespace, creators,
     ${toMillis('created')} AS date, ${toMillis('changed')} AS dateModified
WHERE ($namespaces IS NULL OR any(ns IN $namespaces WHERE project.path STARTS WITH ns + '/'))
  AND ($creators IS NULL OR any(c IN creators WHERE toLower(c) IN $creators))
  AND ($since IS NULL OR date >= $since)
  AND ($until IS NULL OR date <= $until)
  AND ($memberRoles IS NULL OR (project IS NOT NULL AND EXISTS {
    MATCH (:Member {username: $memberName})-[membership:MEMBER_OF]->(project)
    WHERE membership.role IN $memberRoles }))`;
}

function pageCypher(filter: SearchFilter, order: SearchOrder): string {
  const sortValue = {
    matchingScore: 'score',
    name: 'toLower(name)',
    date: 'date',
    dateModified: 'dateModified',
  }[order.field];
  const direction = order.descending ? 'DESC' : 'ASC';
  const beyond = order.descending ? '<' : '>';

  // Hits without a sort value come last in both directions; the node's id breaks ties.
  return `${hitsCypher(filter)}
WITH node, score, project, type, ${sortValue} AS sortValue, elementId(node) AS key
WHERE $after IS NULL
   OR ($after.value IS NULL AND sortValue IS NULL AND key > $after.key)
   OR ($after.value IS NOT NULL AND (sortValue IS NULL OR sortValue ${beyond} $after.value
       OR (sortValue = $after.value AND key > $after.key)))
WITH node AS p, node AS d, score, type, sortValue, key
ORDER BY sortValue IS NULL, sortValue ${direction}, key
LIMIT $limit
RETURN type, score, sortValue, key, CASE type
  WHEN 'PROJECT' THEN ${projectFields}
  WHEN 'DATASET' THEN ${datasetFields}
  WHEN 'WORKFLOW' THEN d {.projectPath, .id, .name, .command}
  ELSE d {.name, .email, .affiliation}
END AS row`;
}

function facetsCypher(filter: SearchFilter): string {
  const facet = (unwind: string, limit: string) =>
    `COLLECT { ${unwind} WITH value, count(*) AS n WHERE value IS NOT NULL
       WITH value, n ORDER BY n DESC, value ${limit} RETURN {value: value, count: n} }`;

  return `${hitsCypher(filter)}
WITH collect({
  type: type,
  visibility: CASE WHEN type = 'PERSON' THEN null ELSE toUpper(project.visibility) END,
  namespace: namespace,
  creators: creators
}) AS hits
RETURN size(hits) AS total,
  ${facet('UNWIND hits AS h WITH h.type AS value', '')} AS types,
  ${facet('UNWIND hits AS h WITH h.visibility AS value', '')} AS visibilities,
  ${facet('UNWIND hits AS h WITH h.namespace AS value', `LIMIT ${facetSize}`)} AS namespaces,
  ${facet('UNWIND hits AS h UNWIND h.creators AS value WITH value', `LIMIT ${facetSize}`)} AS creators`;
}

/** The data source for `search`: full-text indexes, filters, keyset pages and facets. */
export class SearchIndex {
  private indexes: Promise<void> | undefined;

  constructor(
    private readonly graph: GraphReader,
    private readonly log: Logger,
  ) {}

  async page(
    filter: SearchFilter,
    order: SearchOrder,
    first: number,
    after: SearchPosition | null,
  ): Promise<{ hits: SearchHit[]; hasNextPage: boolean }> {
    await this.ensureIndexes();
    const cypher = pageCypher(filter, order);
    this.log.debug({ cypher, first, after }, 'search page');
    const records = await this.graph.read('search page', async (tx) => {
      // One more than asked tells whether another page follows.
      const params = { ...parameters(filter), after, limit: neo4j.int(first + 1) };
      return (await tx.run(cypher, params)).records;
    });

    const hits = records.map((record): SearchHit => {
      const type = record.get('type') as SearchType;
      const row = record.get('row') as Record<string, unknown>;
      return {
        hit: this.toNode(type, row),
        score: record.get('score') as number,
        position: {
          value: record.get('sortValue') as number | string | null,
          key: record.get('key') as string,
        },
      };
    });
    return { hits: hits.slice(0, first), hasNextPage: hits.length > first };
  }

  async facets(filter: SearchFilter): Promise<SearchFacets> {
    await this.ensureIndexes();
    const cypher = facetsCypher(filter);
    this.log.debug({ cypher }, 'search facets');
    const record = await this.graph.read('search facets', async (tx) => {
      return (await tx.run(cypher, parameters(filter))).records[0];
    });
    return {
      total: record.get('total') as number,
      types: record.get('types') as FacetCount[],
      visibilities: record.get('visibilities') as FacetCount[],
      namespaces: record.get('namespaces') as FacetCount[],
      creators: record.get('creators') as FacetCount[],
    };
  }

  /**
   * The indexes may not exist yet when the projects subgraph starts before anything applied
   * the graph schema; creating them is idempotent. A failed attempt is retried next time.
   */
  private ensureIndexes(): Promise<void> {
    this.indexes ??= (async () => {
      for (const statement of searchIndexes) {
        await this.graph.write('search indexes', (tx) => tx.run(statement));
      }
      // A new index fills in the background; a query before then would fail.
      await this.graph.read('search indexes online', (tx) =>
        tx.run('CALL db.awaitIndexes($seconds)', { seconds: neo4j.int(60) }),
      );
    })().catch((error: unknown) => {
      this.indexes = undefined;
      throw error;
    });
    return this.indexes;
  }

  private toNode(type: SearchType, row: Record<string, unknown>): SearchNode {
    switch (type) {
      case 'PROJECT':
        return { type, node: toProject(row as ProjectRow, this.log) };
      case 'DATASET':
        return { type, node: toDataset(row, this.log) };
      case 'WORKFLOW':
        return {
          type,
          node: {
            projectPath: String(row.projectPath),
            id: String(row.id),
            name: typeof row.name === 'string' && row.name !== '' ? row.name : String(row.id),
            command: typeof row.command === 'string' ? row.command : null,
          },
        };
      case 'PERSON':
        return { type, node: toPerson(row) ?? { name: '', email: null, affiliation: null } };
    }
  }
}

function parameters(filter: SearchFilter) {
  return {
    lucene: filter.lucene,
    visibilities: filter.visibilities,
    memberOf: filter.memberOf,
    visibilityAsked: filter.visibilityAsked,
    namespaces: filter.namespaces,
    creators: filter.creators,
    since: filter.since === null ? null : neo4j.int(filter.since),
    until: filter.until === null ? null : neo4j.int(filter.until),
    memberName: filter.membership?.username ?? null,
    memberRoles: filter.membership?.roles ?? null,
  };
}
