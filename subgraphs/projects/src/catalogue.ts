import type { Logger } from '@renku-supergraph/kit';
import neo4j from 'neo4j-driver';

import type { GraphReader } from './neo4j';
import { toProject, type Project, type ProjectRow, type Visibility } from './project';
import { accessFilter } from './visibility';

/** What a caller may see: visibilities, and private projects by path. */
export interface Access {
  visibilities: Visibility[];
  memberOf: string[];
}

export const projectFields =
  'p {.path, .name, .description, .visibility, .keywords, .createdAt, .modifiedAt}';

const byPathsCypher = `
UNWIND $paths AS path
MATCH (p:Project {path: path})
RETURN ${projectFields} AS project`;

// `after` is exclusive: the page starts behind the last project the caller has seen.
const pageCypher = `
MATCH (p:Project)
WHERE ${accessFilter('p')} AND ($after IS NULL OR p.path > $after)
RETURN ${projectFields} AS project
ORDER BY p.path
LIMIT $limit`;

const countCypher = `
MATCH (p:Project)
WHERE ${accessFilter('p')}
RETURN count(p) AS total`;

const membershipsCypher = `
MATCH (:Member {username: $username})-[:MEMBER_OF]->(p:Project)
RETURN collect(p.path) AS paths`;

export interface Page {
  projects: Project[];
  hasNextPage: boolean;
}

/** The data source for the catalogue: every Cypher the subgraph runs lives here. */
export class Catalogue {
  constructor(
    private readonly graph: GraphReader,
    private readonly log: Logger,
  ) {}

  /** One query for all paths; the map holds only the paths that exist, whoever may see them. */
  async byPaths(paths: readonly string[]): Promise<Map<string, Project>> {
    this.log.debug({ cypher: byPathsCypher, paths: paths.length }, 'projects by path');
    const records = await this.graph.read('projects by path', async (tx) => {
      const result = await tx.run(byPathsCypher, { paths });
      return result.records;
    });

    const found = new Map<string, Project>();
    for (const record of records) {
      const project = toProject(record.get('project') as ProjectRow, this.log);
      found.set(project.path, project);
    }
    return found;
  }

  /** The projects a user is a member of, by path: one query per request of a signed-in user. */
  async membershipsOf(username: string): Promise<string[]> {
    return this.graph.read('memberships', async (tx) => {
      const result = await tx.run(membershipsCypher, { username });
      return (result.records[0]?.get('paths') as string[] | undefined) ?? [];
    });
  }

  /** Up to `first` projects the caller may see, in path order after `after`. */
  async page(access: Access, first: number, after: string | null): Promise<Page> {
    this.log.debug({ cypher: pageCypher, first, after }, 'page of projects');
    const records = await this.graph.read('page of projects', async (tx) => {
      // One more than asked tells whether another page follows, without a second query.
      const result = await tx.run(pageCypher, {
        ...access,
        after,
        limit: neo4j.int(first + 1),
      });
      return result.records;
    });

    const projects = records.map((r) => toProject(r.get('project') as ProjectRow, this.log));
    return { projects: projects.slice(0, first), hasNextPage: projects.length > first };
  }

  async count(access: Access): Promise<number> {
    this.log.debug({ cypher: countCypher }, 'count of projects');
    return this.graph.read('count of projects', async (tx) => {
      const result = await tx.run(countCypher, { ...access });
      return result.records[0].get('total') as number;
    });
  }
}
