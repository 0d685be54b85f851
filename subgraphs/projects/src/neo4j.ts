import {
  ErrorCode,
  apiError,
  backendError,
  traceUnitOfWork,
  type Logger,
} from '@renku-supergraph/kit';
import type { GraphQLError } from 'graphql';
import neo4j, { Neo4jError, type Driver, type ManagedTransaction } from 'neo4j-driver';

import type { Neo4jConfig } from './config';

/** The process's one driver; it holds the connection pool. */
export function createDriver(config: Neo4jConfig): Driver {
  // Without a token the driver announces the `none` scheme, which a server without auth takes.
  const auth = config.credentials
    ? neo4j.auth.basic(config.credentials.user, config.credentials.password)
    : undefined;
  return neo4j.driver(config.uri, auth, {
    maxTransactionRetryTime: config.retryTimeoutMs,
    // Resolvers hand numbers to GraphQL; an Integer object would leak as {low, high}.
    disableLosslessIntegers: true,
  });
}

/**
 * Runs units of work, one session each, and turns Neo4j's failures into client errors.
 * The one write is creating the search indexes.
 */
export class GraphReader {
  constructor(
    private readonly driver: Driver,
    private readonly database: string,
    private readonly log: Logger,
  ) {}

  /** `what` names the unit of work in the log. */
  async read<T>(what: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.READ,
    });
    try {
      return await traceUnitOfWork(what, this.database, 'read', () => session.executeRead(work));
    } catch (error) {
      throw translateNeo4jError(error, what, this.log);
    } finally {
      await session.close();
    }
  }

  async write<T>(what: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: neo4j.session.WRITE,
    });
    try {
      return await traceUnitOfWork(what, this.database, 'write', () => session.executeWrite(work));
    } catch (error) {
      throw translateNeo4jError(error, what, this.log);
    } finally {
      await session.close();
    }
  }

  /** Throws while Neo4j cannot be reached. */
  async ready(): Promise<void> {
    await this.driver.verifyConnectivity({ database: this.database });
  }
}

/**
 * The one place where Neo4j's failures become client errors. An unreachable or overloaded
 * database is BACKEND_UNAVAILABLE; anything else (bad Cypher, a type error) is our bug.
 */
export function translateNeo4jError(error: unknown, what: string, log: Logger): GraphQLError {
  if (isUnavailable(error)) {
    log.error({ err: error, what }, 'neo4j is unavailable');
    return backendError('neo4j', error);
  }
  log.error({ err: error, what }, 'neo4j query failed');
  return apiError(ErrorCode.Internal, 'internal error');
}

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Neo4jError)) return false;
  return (
    error.retryable ||
    error.code === neo4j.error.SERVICE_UNAVAILABLE ||
    error.code === neo4j.error.SESSION_EXPIRED ||
    error.code.startsWith('Neo.TransientError.') ||
    // Wrong credentials are the operator's to fix; the caller can only wait.
    error.code.startsWith('Neo.ClientError.Security.')
  );
}
