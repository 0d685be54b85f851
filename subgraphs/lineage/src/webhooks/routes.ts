import { ErrorCode, type Logger, type ServeOptions } from '@renku-supergraph/kit';
import { GraphQLError } from 'graphql';
import type { Driver } from 'neo4j-driver';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { type NewEvent, storeEvent } from './events';
import { readSecretHash, secretMatches } from './secrets';

export interface WebhookRouteOptions {
  driver: Driver;
  log: Logger;
  /** The largest export body accepted, in bytes. */
  maxExportBytes: number;
  /** Called after an event was stored, so that the worker looks at once. */
  onStored: () => void;
}

type App = Parameters<NonNullable<ServeOptions<never>['routes']>>[0];

/** The request with its body read (at most the route's limit). */
interface Request {
  get(header: string): string | undefined;
  query: URLSearchParams;
  body: Buffer;
}
type Response = ServerResponse;

/** A GitLab push names the old and new commit; 40 zeros stand for a deleted branch. */
const commitPattern = /^[0-9a-f]{40}$/;
const deletedBranch = '0'.repeat(40);

/** What the sender is told; nothing here depends on Neo4j's wording. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `POST /webhooks/gitlab` takes GitLab push events, `POST /webhooks/export?project=&commit=` the
 * JSON-LD export a CI job made of a commit. Both authenticate with the project's secret in
 * `X-Gitlab-Token`. An event is stored in Neo4j before the 202, so an accepted delivery is
 * never lost; while Neo4j cannot store it the answer is 503, which GitLab retries.
 */
export function webhookRoutes(options: WebhookRouteOptions): (app: App) => void {
  const { driver, log } = options;

  async function accept(req: Request, res: Response, event: NewEvent) {
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

  const gitlab = async (req: Request, res: Response) => {
    if (!req.get('x-gitlab-token')) throw new Refusal(401, 'X-Gitlab-Token is missing');
    if (req.get('x-gitlab-event') !== 'Push Hook') {
      throw new Refusal(400, 'only push events (X-Gitlab-Event: Push Hook) are taken');
    }
    const body = parseJson(req.body);
    const project = (body as { project?: Record<string, unknown> }).project;
    const projectPath = project?.path_with_namespace;
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

  async function acceptIgnored(req: Request, res: Response, projectPath: string, why: string) {
    const token = req.get('x-gitlab-token') ?? '';
    if (!secretMatches(token, await readSecretHash(driver, projectPath))) {
      throw new Refusal(401, 'the token does not match the project');
    }
    send(res, 202, { status: 'ignored', reason: why });
  }

  const exported = async (req: Request, res: Response) => {
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
    app.post('/webhooks/gitlab', handle(gitlab, 1024 * 1024));
    app.post('/webhooks/export', handle(exported, options.maxExportBytes));
  };

  function handle(handler: (req: Request, res: Response) => Promise<void>, limit: number) {
    return (req: IncomingMessage, res: ServerResponse) => {
      readRequest(req, limit)
        .then((request) => handler(request, res))
        .catch((error: unknown) => {
          if (error instanceof Refusal) {
            send(res, error.status, { error: error.message });
          } else if (
            error instanceof GraphQLError &&
            error.extensions.code === ErrorCode.BackendUnavailable
          ) {
            res.setHeader('retry-after', '10');
            send(res, 503, { error: 'storage unavailable; retry' });
          } else {
            log.error({ err: error }, 'webhook failed');
            send(res, 500, { error: 'internal error' });
          }
        });
    };
  }
}

/**
 * Reads the body as bytes: one that is not JSON must get our 400, not a parser's page, and one
 * over the limit is cut off as soon as it is, not after it was all read.
 */
function readRequest(req: IncomingMessage, limit: number): Promise<Request> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(new Refusal(413, 'the body is too large'));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Drain the rest unread, so that the 413 still reaches the sender.
        req.removeAllListeners('data');
        req.resume();
        reject(new Refusal(413, 'the body is too large'));
      } else {
        chunks.push(chunk);
      }
    });
    req.once('error', reject);
    req.once('end', () => {
      const header = (name: string) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value[0] : value;
      };
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      resolve({ get: header, query, body: Buffer.concat(chunks) });
    });
  });
}

function send(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

function parseJson(body: Buffer): object {
  const text = body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') return parsed;
  } catch {
    // Refused below.
  }
  throw new Refusal(400, 'the body is not a JSON object');
}
