import neo4j, { type Driver, type ManagedTransaction, Neo4jError } from 'neo4j-driver';
import crypto from 'node:crypto';

import { withSession } from '../neo4j';

/** `members`: GitLab said a project's membership changed (system-hook.ts); no lineage. */
export type EventKind = 'push' | 'export' | 'members';
export type EventStatus = 'new' | 'processing' | 'done' | 'failed';

export interface NewEvent {
  projectPath: string;
  kind: EventKind;
  commit: string;
  /** The `Idempotency-Key` header GitLab repeats on every retry of one delivery. */
  idempotencyKey?: string;
  /** Push events: where to clone from. */
  gitUrl?: string;
  /** Push events: GitLab's id of the project, which outlives renames of its path. */
  gitlabProjectId?: number;
  /** Export events: the JSON-LD as posted. */
  document?: string;
}

export interface ClaimedEvent {
  id: string;
  projectPath: string;
  kind: EventKind;
  commit: string;
  gitUrl: string | null;
  gitlabProjectId: number | null;
  document: string | null;
  attempts: number;
  /** Marks this worker's claim; a worker whose claim was taken over cannot finish the event. */
  claim: string;
}

/**
 * Stores a delivery durably, unless the same one is stored already: same project, kind and
 * commit, or same Idempotency-Key. Two copies arriving at once both pass the look-up, but the
 * uniqueness constraints let only one be created; the other is a duplicate too.
 */
export async function storeEvent(
  driver: Driver,
  event: NewEvent,
): Promise<{ id: string; duplicate: boolean }> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const key = `${event.projectPath}|${event.kind}|${event.commit}`;
  const deliveryKey = event.idempotencyKey ? `${event.projectPath}|${event.idempotencyKey}` : null;
  try {
    const known = await withSession(driver, (session) =>
      session.executeWrite(async (tx) => {
        const result = await tx.run(
          `OPTIONAL MATCH (byCommit:IngestEvent {key: $key})
           OPTIONAL MATCH (byDelivery:IngestEvent {deliveryKey: $deliveryKey})
           WITH coalesce(byCommit.id, byDelivery.id) AS knownId
           FOREACH (_ IN CASE WHEN knownId IS NULL THEN [1] ELSE [] END |
             CREATE (:IngestEvent {id: $id, key: $key, deliveryKey: $deliveryKey,
                                   projectPath: $projectPath, kind: $kind, commit: $commit,
                                   gitUrl: $gitUrl, gitlabProjectId: $gitlabProjectId,
                                   document: $document, status: 'new',
                                   message: 'waiting', attempts: 0, completions: 0,
                                   receivedAt: $now, nextAttemptAt: $now}))
           RETURN knownId`,
          {
            id,
            key,
            deliveryKey,
            projectPath: event.projectPath,
            kind: event.kind,
            commit: event.commit,
            gitUrl: event.gitUrl ?? null,
            gitlabProjectId:
              event.gitlabProjectId === undefined ? null : neo4j.int(event.gitlabProjectId),
            document: event.document ?? null,
            now,
          },
        );
        return result.records[0].get('knownId') as string | null;
      }),
    );
    return known ? { id: known, duplicate: true } : { id, duplicate: false };
  } catch (error) {
    if (!isConstraintViolation(error)) throw error;
    // The other copy won the race: answer with its id.
    return { id: (await findEvent(driver, key, deliveryKey)) ?? id, duplicate: true };
  }
}

async function findEvent(driver: Driver, key: string, deliveryKey: string | null) {
  return withSession(driver, async (session) => {
    const result = await session.executeRead((tx) =>
      tx.run(
        `OPTIONAL MATCH (byCommit:IngestEvent {key: $key})
         OPTIONAL MATCH (byDelivery:IngestEvent {deliveryKey: $deliveryKey})
         RETURN coalesce(byCommit.id, byDelivery.id) AS id`,
        { key, deliveryKey },
      ),
    );
    return result.records[0]?.get('id') as string | null;
  });
}

function isConstraintViolation(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  return (
    (error instanceof Neo4jError || cause instanceof Neo4jError) &&
    [error, cause].some(
      (e) => (e as Neo4jError).code === 'Neo.ClientError.Schema.ConstraintValidationFailed',
    )
  );
}

/**
 * Takes the oldest due event: a `new` one whose retry time has come, or a `processing` one
 * whose worker went silent. Writing to the event first takes its lock, so a second worker
 * waits there and then, checking again, sees it taken.
 */
export async function claimNextEvent(
  driver: Driver,
  staleAfterMs: number,
): Promise<ClaimedEvent | null> {
  const now = new Date();
  const claim = crypto.randomUUID();
  return withSession(driver, (session) =>
    session.executeWrite(async (tx) => {
      const result = await tx.run(
        `MATCH (e:IngestEvent)
         WHERE (e.status = 'new' AND e.nextAttemptAt <= $now)
            OR (e.status = 'processing' AND e.claimedAt <= $staleBefore)
         WITH e ORDER BY e.receivedAt, e.id LIMIT 1
         SET e.lock = true
         REMOVE e.lock
         WITH e
         WHERE (e.status = 'new' AND e.nextAttemptAt <= $now)
            OR (e.status = 'processing' AND e.claimedAt <= $staleBefore)
         SET e.status = 'processing', e.claim = $claim, e.claimedAt = $now,
             e.attempts = e.attempts + 1, e.message = 'processing'
         RETURN e {.id, .projectPath, .kind, .commit, .gitUrl, .gitlabProjectId, .document,
                   .attempts} AS event`,
        {
          now: now.toISOString(),
          staleBefore: new Date(now.getTime() - staleAfterMs).toISOString(),
          claim,
        },
      );
      const event = result.records[0]?.get('event');
      if (!event) return null;
      return {
        ...event,
        attempts: neo4j.integer.toNumber(event.attempts),
        gitlabProjectId:
          event.gitlabProjectId == null ? null : neo4j.integer.toNumber(event.gitlabProjectId),
        claim,
      } as ClaimedEvent;
    }),
  );
}

/**
 * Marks the event done inside the transaction that wrote its metadata, so that the metadata
 * and the status commit together or not at all. Throws when another worker took the event
 * over, which rolls the whole transaction back.
 */
export async function completeEvent(tx: ManagedTransaction, event: ClaimedEvent, message: string) {
  const result = await tx.run(
    `MATCH (e:IngestEvent {id: $id, claim: $claim, status: 'processing'})
     SET e.status = 'done', e.message = $message, e.finishedAt = $now,
         e.completions = e.completions + 1, e.document = null
     RETURN e.id AS id`,
    { id: event.id, claim: event.claim, message, now: new Date().toISOString() },
  );
  if (result.records.length === 0) {
    throw new Error(`event ${event.id} was taken over by another worker`);
  }
}

/** A failed attempt: tried again at `retryAt`, or `failed` for good when retryAt is null. */
export async function failAttempt(
  driver: Driver,
  event: ClaimedEvent,
  message: string,
  retryAt: Date | null,
): Promise<void> {
  await withSession(driver, (session) =>
    session.executeWrite((tx) =>
      tx.run(
        `MATCH (e:IngestEvent {id: $id, claim: $claim, status: 'processing'})
         SET e.status = $status, e.message = $message, e.nextAttemptAt = $retryAt,
             e.finishedAt = CASE WHEN $retryAt IS NULL THEN $now ELSE null END`,
        {
          id: event.id,
          claim: event.claim,
          status: retryAt ? 'new' : 'failed',
          message,
          retryAt: retryAt?.toISOString() ?? null,
          now: new Date().toISOString(),
        },
      ),
    ),
  );
}
