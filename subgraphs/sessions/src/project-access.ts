import {
  ErrorCode,
  apiError,
  backendError,
  canSeeProject,
  type Logger,
  type ProjectAccessFacts,
} from '@renku-supergraph/kit';
import DataLoader from 'dataloader';
import type { GraphQLError } from 'graphql';
import neo4j, { Neo4jError, type Driver } from 'neo4j-driver';

import type { SessionsConfig } from './config';

// One read answers for every project a request asks about; missing paths return no row.
const factsCypher = `
UNWIND $paths AS path
MATCH (project:Project {path: path})
RETURN project.path AS path, project.visibility AS visibility,
  EXISTS { MATCH (:Member {username: $username})-[:MEMBER_OF]->(project) } AS member`;

/** Which projects a caller may see, from the knowledge graph the projects subgraph serves. */
export class ProjectAccess {
  constructor(
    private readonly driver: Driver,
    private readonly database: string,
    private readonly log: Logger,
  ) {}

  /**
   * A loader for one request: the paths asked for in the same tick are read at once, and
   * answers are kept for that request only, never for another caller.
   */
  loader(username: string | undefined): DataLoader<string, boolean> {
    return new DataLoader(async (paths) => {
      const facts = await this.facts(username, paths);
      return paths.map((path) => canSeeProject(username !== undefined, facts.get(path)));
    });
  }

  private async facts(
    username: string | undefined,
    paths: readonly string[],
  ): Promise<Map<string, ProjectAccessFacts>> {
    this.log.debug({ cypher: factsCypher, paths: paths.length }, 'project access');
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.READ,
    });
    try {
      const records = await session.executeRead(async (tx) => {
        const result = await tx.run(factsCypher, { paths, username: username ?? null });
        return result.records;
      });
      return new Map(
        records.map((record) => [
          record.get('path') as string,
          {
            visibility: (record.get('visibility') as string | null) ?? null,
            member: record.get('member') === true,
          },
        ]),
      );
    } catch (error) {
      throw this.translated(error);
    } finally {
      await session.close();
    }
  }

  /** An unreachable graph is BACKEND_UNAVAILABLE; anything else is our bug. */
  private translated(error: unknown): GraphQLError {
    if (error instanceof Neo4jError && isUnavailable(error)) {
      this.log.error({ err: error }, 'neo4j is unavailable');
      return backendError('neo4j', error);
    }
    this.log.error({ err: error }, 'reading project access failed');
    return apiError(ErrorCode.Internal, 'internal error');
  }
}

function isUnavailable(error: Neo4jError): boolean {
  return (
    error.retryable ||
    error.code === neo4j.error.SERVICE_UNAVAILABLE ||
    error.code === neo4j.error.SESSION_EXPIRED ||
    error.code.startsWith('Neo.TransientError.') ||
    // Wrong credentials are the operator's to fix; the caller can only wait.
    error.code.startsWith('Neo.ClientError.Security.')
  );
}

/** The process's one driver; it holds the connection pool. */
export function createDriver(config: SessionsConfig['neo4j']): Driver {
  // Without a token the driver announces the `none` scheme, which a server without auth takes.
  const auth = config.credentials
    ? neo4j.auth.basic(config.credentials.user, config.credentials.password)
    : undefined;
  return neo4j.driver(config.uri, auth, { maxTransactionRetryTime: config.retryTimeoutMs });
}
