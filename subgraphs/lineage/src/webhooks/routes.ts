import type { Logger, ServeOptions } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';
import type { ServerResponse } from 'node:http';

import { type NewEvent, storeEvent } from './events';
import { handled, parseJson, Refusal, send, type WebhookRequest } from './http';
import { readSecretHash, secretMatches } from './secrets';
import { systemHookRoute } from './system-hook';

export interface WebhookRouteOptions {
  driver: Driver;
  log: Logger;
  /** The largest export body accepted, in bytes. */
  maxExportBytes: number;
  /** Called after an event was stored, so that the worker looks at once. */
  onStored: () => void;
  /** GitLab's system hook secret; absent: member events are not taken. */
  systemHookToken?: string;
}

type App = Parameters<NonNullable<ServeOptions<never>['routes']>>[0];

/** A GitLab push names the old and new commit; 40 zeros stand for a deleted branch. */
const commitPattern = /^[0-9a-f]{40}$/;
const deletedBranch = '0'.repeat(40);

/**
 * `POST /webhooks/gitlab` takes GitLab push events, `POST /webhooks/export?project=&commit=` the
 * JSON-LD export a CI job made of a commit. Both authenticate with the project's secret in
 * `X-Gitlab-Token`. An event is stored in Neo4j before the 202, so an accepted delivery is
 * never lost; while Neo4j cannot store it the answer is 503, which GitLab does not send again
 * (docs/operations.md says how to catch up).
 */
export function webhookRoutes(options: WebhookRouteOptions): (app: App) => void {
  const { driver, log } = options;

  async function accept(req: WebhookRequest, res: ServerResponse, event: NewEvent) {
    const token = req.get('x-gitlab-token');
    if (!token) throw new Refusal(401, 'X-Gitlab-Token is missing');
    const storedHash = await readSecretHash(driver, event.projectPath);
    if (!secretMatches(token, storedHash)) {
      // The same answer for an unknown project, one not activated and a wrong secret.
      throw new Refusal(401, 'the token does not match the project');
    }
    const stored = await storeEvent(driver, event);
    if (!stored.duplicate) options.onStored();
    log.info(
      { project: event.projectPath, kind: event.kind, commit: event.commit, ...stored },
      stored.duplicate ? 'webhook delivery repeated' : 'webhook event stored',
    );
    send(res, 202, { status: stored.duplicate ? 'duplicate' : 'accepted', event: stored.id });
  }

  const gitlab = async (req: WebhookRequest, res: ServerResponse) => {
    if (!req.get('x-gitlab-token')) throw new Refusal(401, 'X-Gitlab-Token is missing');
    const kind = req.get('x-gitlab-event');
    if (!kind) throw new Refusal(400, 'X-Gitlab-Event is missing');
    const body = parseJson(req.body);
    const project = (body as { project?: Record<string, unknown> }).project;
    const projectPath = project?.path_with_namespace;
    // GitLab turns a hook off after failed deliveries, 4xx answers among them: another kind of
    // event the hook was also set to send is taken, once authenticated, and ignored.
    if (kind !== 'Push Hook' && typeof projectPath === 'string' && projectPath !== '') {
      const why = 'only push events (X-Gitlab-Event: Push Hook) make lineage';
      return acceptIgnored(req, res, projectPath, why);
    }
    const after = (body as { after?: unknown }).after;
    if (typeof projectPath !== 'string' || projectPath === '' || project?.id === undefined) {
      throw new Refusal(
        400,
        'the event names no project (project.id, project.path_with_namespace)',
      );
    }
    if (typeof after !== 'string' || !commitPattern.test(after)) {
      throw new Refusal(400, 'the event names no commit (after)');
    }
    const gitUrl = project?.git_http_url;
    const ref = (body as { ref?: unknown }).ref;
    const defaultBranch = project?.default_branch;
    // Authenticated even when ignored, so that the answer tells nothing without the secret.
    if (after === deletedBranch) {
      return acceptIgnored(req, res, projectPath, 'a deleted branch has no metadata');
    }
    if (typeof defaultBranch === 'string' && ref !== `refs/heads/${defaultBranch}`) {
      const why = `only pushes to the default branch (${defaultBranch}) make the project's lineage`;
      return acceptIgnored(req, res, projectPath, why);
    }
    await accept(req, res, {
      projectPath,
      kind: 'push',
      commit: after,
      idempotencyKey: req.get('idempotency-key'),
      gitUrl: typeof gitUrl === 'string' ? gitUrl : undefined,
      gitlabProjectId: Number.isSafeInteger(project.id) ? (project.id as number) : undefined,
    });
  };

  async function acceptIgnored(
    req: WebhookRequest,
    res: ServerResponse,
    projectPath: string,
    why: string,
  ) {
    const token = req.get('x-gitlab-token') ?? '';
    if (!secretMatches(token, await readSecretHash(driver, projectPath))) {
      throw new Refusal(401, 'the token does not match the project');
    }
    send(res, 202, { status: 'ignored', reason: why });
  }

  const exported = async (req: WebhookRequest, res: ServerResponse) => {
    if (!req.get('x-gitlab-token')) throw new Refusal(401, 'X-Gitlab-Token is missing');
    const project = req.query.get('project');
    const commit = req.query.get('commit');
    if (!project) {
      throw new Refusal(400, 'the query names no project (?project=namespace/name)');
    }
    if (!commit || !/^[0-9a-f]{7,64}$/.test(commit)) {
      throw new Refusal(400, 'the query names no commit (?commit=<sha>)');
    }
    parseJson(req.body);
    await accept(req, res, {
      projectPath: project,
      kind: 'export',
      commit,
      idempotencyKey: req.get('idempotency-key'),
      document: req.body.toString('utf8'),
    });
  };

  return (app: App) => {
    app.post('/webhooks/gitlab', handled(log, gitlab, 1024 * 1024));
    app.post('/webhooks/export', handled(log, exported, options.maxExportBytes));
    if (options.systemHookToken) {
      const route = systemHookRoute({ ...options, token: options.systemHookToken });
      app.post('/webhooks/gitlab/system', handled(log, route, 1024 * 1024));
    }
  };
}
