import type { Logger } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';
import type { Driver, ManagedTransaction } from 'neo4j-driver';

import type { WebhookConfig } from '../config';
import { ingestExport, type IngestSummary } from '../ingest/ingest';
import { readRenkuExport, type RenkuExport } from '../ingest/read';
import { withSession } from '../neo4j';
import { claimNextEvent, type ClaimedEvent, completeEvent, failAttempt } from './events';
import {
  fetchProjectMembers,
  type GitLabMember,
  MembersUnavailable,
  syncMembers,
} from './gitlab-members';
import { type CommitExporter, ExportError, PermanentError } from './renku-export';

type WorkerConfig = Pick<
  WebhookConfig,
  'pollMs' | 'staleAfterMs' | 'maxAttempts' | 'retryBaseMs' | 'gitlab'
>;

/** What a push did to the project's members: written with the event, or why not. */
type MemberSync = { members: GitLabMember[] } | { problem: string } | undefined;

/** The longest a worker waits before looking again after Neo4j failed to answer. */
const maxIdleMs = 10_000;
/** The longest wait between two attempts of one event. */
const maxRetryMs = 10 * 60_000;

/**
 * Processes stored events one at a time, oldest first. Everything it knows is in Neo4j: a
 * worker that starts (after a restart, or once Neo4j is back) finds the `new` events and the
 * `processing` ones a dead worker left, and goes on. One at a time, because each event is a
 * whole export written in one transaction; in parallel they would wait for each other's locks.
 */
export class IngestWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Set by a wake-up that came while an event was in hand, so the next look is at once. */
  private woken = false;

  constructor(
    private readonly driver: Driver,
    private readonly log: Logger,
    private readonly config: WorkerConfig,
    private readonly exporter: CommitExporter | undefined,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** A new event was stored: look now instead of at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Finishes the event in hand, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let event: ClaimedEvent | null = null;
      try {
        event = await claimNextEvent(this.driver, this.config.staleAfterMs);
        failures = 0;
      } catch (error) {
        failures += 1;
        this.log.warn({ err: error, failures }, 'cannot look for webhook events; trying again');
      }
      if (event) {
        await this.process(event);
        continue;
      }
      if (this.woken && failures === 0) {
        this.woken = false;
        continue;
      }
      const backoff = this.config.pollMs * 2 ** Math.min(failures, 10);
      await this.sleep(failures > 0 ? Math.min(backoff, maxIdleMs) : this.config.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private async process(event: ClaimedEvent): Promise<void> {
    const log = this.log.child({ event: event.id, project: event.projectPath, kind: event.kind });
    try {
      if (event.kind === 'members') return await this.syncMembersOnly(event, log);
      const read = await this.exportOf(event);
      const members = await this.membersOf(event, log);
      // The lineage, the members and the status commit together: one write transaction.
      const complete = async (tx: ManagedTransaction, message: string) => {
        if (members && 'members' in members) {
          await syncMembers(tx, event.projectPath, members.members);
        }
        await completeEvent(tx, event, `${message}${describeSync(members)}`);
      };
      const describe = (summary: IngestSummary) =>
        `ingested commit ${event.commit}: ${summary.runs} runs, ${summary.entities} file versions, ${summary.datasets} datasets`;
      if (read === undefined) {
        await withSession(this.driver, (session) =>
          session.executeWrite((tx) =>
            complete(
              tx,
              `no renku CLI here: the lineage of ${event.commit} comes with the export a CI job posts`,
            ),
          ),
        );
        return;
      }
      const summary = await ingestExport(this.driver, { projectPath: event.projectPath }, read, {
        inTransaction: (tx, counts) => complete(tx, describe(counts)),
      });
      log.info({ ...summary, attempt: event.attempts }, 'webhook event ingested');
    } catch (error) {
      await this.failed(event, error, log);
    }
  }

  /**
   * A member event: GitLab is asked who the members are now. By the project's path, never by an
   * id the event carried: the members written are those of the project the graph calls so, and
   * an id could name another project, whose members would then read this one. Unlike a push's,
   * a failure here is retried like any event's, since bringing the members is all it is for.
   */
  private async syncMembersOnly(event: ClaimedEvent, log: Logger): Promise<void> {
    const gitlab = this.config.gitlab;
    if (!gitlab) throw new PermanentError('GITLAB_URL is not set: members cannot be read');
    const members = await fetchProjectMembers(gitlab, event.projectPath);
    await withSession(this.driver, (session) =>
      session.executeWrite(async (tx) => {
        await syncMembers(tx, event.projectPath, members);
        await completeEvent(tx, event, `${members.length} members synced from GitLab`);
      }),
    );
    log.info({ members: members.length, attempt: event.attempts }, 'project members synced');
  }

  /**
   * A push brings the project's members from GitLab (GitLab decides who may see a private
   * project). GitLab away must not cost the push its lineage: the event is done without them,
   * says so, and the next push tries again. Retrying the whole event instead would hold the
   * lineage back for as long as GitLab is away. By path, as for a member event.
   */
  private async membersOf(event: ClaimedEvent, log: Logger): Promise<MemberSync> {
    const gitlab = this.config.gitlab;
    if (event.kind !== 'push' || !gitlab) return undefined;
    try {
      const members = await fetchProjectMembers(gitlab, event.projectPath);
      return { members };
    } catch (error) {
      log.warn({ err: error }, 'cannot read the project members from GitLab');
      return {
        problem: error instanceof MembersUnavailable ? error.message : 'internal error',
      };
    }
  }

  /**
   * The export to ingest; undefined for a push when this process cannot export commits. A
   * posted export is taken as it is: a 2.x one names no commits, and its runs and file versions
   * keep none (there is no clone here to ask). A push exported here gets them from the clone.
   */
  private async exportOf(event: ClaimedEvent): Promise<RenkuExport | undefined> {
    if (event.kind === 'export') {
      let document: unknown;
      try {
        document = JSON.parse(event.document ?? '');
      } catch {
        throw new PermanentError('the posted export is not JSON');
      }
      return readRenkuExport(document);
    }
    if (!this.exporter || !event.gitUrl) return undefined;
    return this.exporter.exportCommit(event.gitUrl, event.commit);
  }

  /**
   * Broken metadata stays broken: such an event fails at once. Anything else (Neo4j away, a
   * clone that timed out) is tried again after 1, 2, 4... times the base wait. When even this
   * cannot be written, the event stays `processing` and is taken up again once stale.
   */
  private async failed(event: ClaimedEvent, error: unknown, log: Logger): Promise<void> {
    // Shown to clients in lineageStatus: our own errors and git's or renku's, never a driver's.
    const message =
      error instanceof GraphQLError ||
      error instanceof ExportError ||
      error instanceof MembersUnavailable
        ? error.message
        : 'internal error while ingesting (the lineage subgraph log has the details)';
    const permanent =
      error instanceof PermanentError ||
      (error instanceof GraphQLError && error.extensions.code === 'BAD_USER_INPUT');
    const retry = !permanent && event.attempts < this.config.maxAttempts;
    const wait = Math.min(this.config.retryBaseMs * 2 ** (event.attempts - 1), maxRetryMs);
    const retryAt = retry ? new Date(Date.now() + wait) : null;
    log.warn({ err: error, attempt: event.attempts, retryAt }, 'webhook event failed');
    try {
      await failAttempt(
        this.driver,
        event,
        retry
          ? `attempt ${event.attempts} failed: ${message}; trying again`
          : `failed after ${event.attempts} attempt(s): ${message}`,
        retryAt,
      );
    } catch (markError) {
      log.warn({ err: markError }, 'cannot record the failure; the event will be taken up again');
    }
  }
}

function describeSync(sync: MemberSync): string {
  if (sync === undefined) return '';
  if ('members' in sync) return `; ${sync.members.length} members synced from GitLab`;
  return `; the project members could not be synced from GitLab (${sync.problem}): the next push tries again`;
}
