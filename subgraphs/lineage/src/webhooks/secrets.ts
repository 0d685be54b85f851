import { apiError, ErrorCode } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';
import crypto from 'node:crypto';

import { withSession } from '../neo4j';

/**
 * Secrets are 32 random bytes: guessing is hopeless, so one fast hash is enough to keep a
 * stolen database from revealing them (no password-style stretching needed).
 */
export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Whether a token matches the stored hash. Both sides are SHA-256 digests of equal length, so
 * timingSafeEqual compares them in constant time whatever the caller sent.
 */
export function secretMatches(token: string, storedHash: string | null): boolean {
  const given = crypto.createHash('sha256').update(token, 'utf8').digest();
  const stored = Buffer.from(storedHash ?? '', 'hex');
  // Compared against itself when nothing is stored, so the time taken does not tell.
  return (
    crypto.timingSafeEqual(given, stored.length === given.length ? stored : given) &&
    stored.length === given.length
  );
}

/**
 * Turns on lineage ingestion for a project: a new webhook secret, returned once and stored
 * only as its hash (a second call replaces it). Creates the project node when the catalogue
 * does not know the project yet, private like every project ingestion creates.
 */
export async function activateLineage(driver: Driver, projectPath: string): Promise<string> {
  if (!/^[^/\s]+(\/[^/\s]+)+$/.test(projectPath)) {
    throw apiError(
      ErrorCode.BadUserInput,
      `project path "${projectPath}" is not of the form namespace/name`,
    );
  }
  const secret = crypto.randomBytes(32).toString('base64url');
  await withSession(driver, (session) =>
    session.executeWrite((tx) =>
      tx.run(
        `MERGE (project:Project {path: $path})
         ON CREATE SET project.slug = $slug, project.name = $slug, project.visibility = 'private',
                       project.keywords = []
         SET project.lineageSecretHash = $hash, project.lineageActivatedAt = $now`,
        {
          path: projectPath,
          slug: projectPath.split('/').at(-1),
          hash: hashSecret(secret),
          now: new Date().toISOString(),
        },
      ),
    ),
  );
  return secret;
}

/** The stored hash of a project's secret; null when lineage is not activated. */
export async function readSecretHash(driver: Driver, projectPath: string): Promise<string | null> {
  return withSession(driver, async (session) => {
    const result = await session.executeRead((tx) =>
      tx.run('MATCH (project:Project {path: $path}) RETURN project.lineageSecretHash AS hash', {
        path: projectPath,
      }),
    );
    return (result.records[0]?.get('hash') as string | null | undefined) ?? null;
  });
}
