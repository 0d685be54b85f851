import { backendError } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';
import neo4j, { type Driver, Neo4jError } from 'neo4j-driver';

import type { Neo4jConfig } from './config';

export function createDriver(config: Neo4jConfig): Driver {
  const auth =
    config.user && config.password ? neo4j.auth.basic(config.user, config.password) : undefined;
  return neo4j.driver(config.uri, auth, {
    // A client waits for its answer: retry a transaction for a few seconds, not the default 30.
    maxTransactionRetryTime: 5_000,
  });
}

/**
 * The one place where Neo4j failures become client errors. Errors we raised
 * ourselves (GraphQLError) pass through. An unreachable or overloaded database
 * is BACKEND_UNAVAILABLE; anything else (a Cypher mistake, a broken constraint)
 * is our bug and stays an internal error, its text kept in the log only.
 */
export function translateNeo4jError(error: unknown): Error {
  if (error instanceof GraphQLError) return error;
  if (error instanceof Neo4jError && isUnavailable(error)) {
    return backendError('neo4j', error, { neo4jCode: error.code });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function isUnavailable(error: Neo4jError): boolean {
  return (
    error.code === neo4j.error.SERVICE_UNAVAILABLE ||
    error.code === neo4j.error.SESSION_EXPIRED ||
    error.code.startsWith('Neo.TransientError.') ||
    error.code.startsWith('Neo.ClientError.Security.')
  );
}

/** Runs one unit of work in its own session, closed whatever happens. */
export async function withSession<T>(
  driver: Driver,
  work: (session: ReturnType<Driver['session']>) => Promise<T>,
): Promise<T> {
  const session = driver.session();
  try {
    return await work(session);
  } catch (error) {
    throw translateNeo4jError(error);
  } finally {
    await session.close();
  }
}
