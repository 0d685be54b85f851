import type { Logger } from '@renku-supergraph/kit';
import express, { type NextFunction, type Request, type Response } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { BadPageRequest, sendPage } from './pagination';
import { Renderer } from './render';
import { defaultSeedFile, loadSeed, type Scope, type SeedProject } from './seed';
import { GitLabStore, type Caller } from './store';

export interface StandinOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default: `seed.json` beside this file. */
  seedFile?: string;
  /** The base of `web_url` and `Link` URLs; default the address each request was sent to. */
  externalUrl?: string;
  log: Logger;
}

export interface RunningStandin {
  /** The base URL, without `/api/v4`, as GITLAB_URL takes it. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The routes served, in the notation of the vendored spec, where each is a `get`. */
export const servedPaths = {
  currentUser: '/api/v4/user',
  project: '/api/v4/projects/{id}',
  branches: '/api/v4/projects/{id}/repository/branches',
  branch: '/api/v4/projects/{id}/repository/branches/{branch}',
  commits: '/api/v4/projects/{id}/repository/commits',
} as const;

/** An express route below `/api/v4` from a spec path. */
function route(specPath: string): string {
  return specPath.replace(/^\/api\/v4/, '').replace(/\{(\w+)\}/g, ':$1');
}

/** What GitLab answers, word for word, when it refuses. */
const refusals = {
  unauthorized: { status: 401, body: { message: '401 Unauthorized' } },
  forbidden: { status: 403, body: { message: '403 Forbidden' } },
  insufficientScope: {
    status: 403,
    body: {
      error: 'insufficient_scope',
      error_description:
        'The request requires higher privileges than provided by the access token.',
      scope: 'api read_api',
    },
  },
  projectNotFound: { status: 404, body: { message: '404 Project Not Found' } },
  branchNotFound: { status: 404, body: { message: '404 Branch Not Found' } },
  notFound: { status: 404, body: { error: '404 Not Found' } },
} as const;

class Refusal extends Error {
  constructor(readonly refusal: (typeof refusals)[keyof typeof refusals]) {
    super(JSON.stringify(refusal.body));
  }
}

/**
 * A small GitLab: the part of REST API v4 the gitlab subgraph uses, answering from a seed
 * file with GitLab's rules for tokens, visibility, pagination and errors.
 */
export async function serveGitLabStandin(options: StandinOptions): Promise<RunningStandin> {
  const { log } = options;
  const store = new GitLabStore(loadSeed(options.seedFile ?? defaultSeedFile));
  const host = options.host ?? '127.0.0.1';
  const app = express();
  const server = http.createServer(app);

  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.on('finish', () =>
      log.debug({ method: req.method, path: req.path, status: res.statusCode }, 'request'),
    );
    next();
  });
  app.get('/-/health', (_req, res) => {
    res.type('text/plain').send('GitLab OK');
  });

  const api = express.Router();
  api.use((req, res, next) => {
    res.locals.caller = identify(store, req);
    // Without a configured address, links name the address the caller used, as GitLab's
    // `Link` headers do.
    res.locals.web = (options.externalUrl ?? `${req.protocol}://${req.get('host')}`).replace(
      /\/+$/,
      '',
    );
    next();
  });

  api.get(route(servedPaths.currentUser), (_req, res) => {
    const caller = callerOf(res);
    if (!caller) throw new Refusal(refusals.unauthorized);
    requireScope(caller, ['api', 'read_api', 'read_user']);
    res.json(renderer(res).currentUser(caller.user));
  });

  api.get(route(servedPaths.project), (req, res) => {
    const project = visibleProject(req, res);
    res.json(renderer(res).project(project, callerOf(res)));
  });

  api.get(route(servedPaths.branches), (req, res) => {
    const project = readableCode(req, res);
    const search = typeof req.query.search === 'string' ? req.query.search : undefined;
    const branches = sortBranches(
      project,
      project.branches.filter((branch) => matchesSearch(branch.name, search)),
      req.query.sort,
    );
    sendPage(
      req,
      res,
      webOf(res),
      branches.map((branch) => renderer(res).branch(project, branch, callerOf(res))),
    );
  });

  api.get(route(servedPaths.branch), (req, res) => {
    const project = readableCode(req, res);
    const branch = project.branches.find((candidate) => candidate.name === req.params.branch);
    if (!branch) throw new Refusal(refusals.branchNotFound);
    res.json(renderer(res).branch(project, branch, callerOf(res)));
  });

  api.get(route(servedPaths.commits), (req, res) => {
    const project = readableCode(req, res);
    const ref = typeof req.query.ref_name === 'string' ? req.query.ref_name : project.defaultBranch;
    const head = store.resolveRef(project, ref);
    // GitLab lists nothing, rather than failing, for a ref the repository lacks.
    const commits = head ? store.history(project, head) : [];
    sendPage(
      req,
      res,
      webOf(res),
      commits.map((commit) => renderer(res).commit(project, commit)),
    );
  });

  api.use(() => {
    throw new Refusal(refusals.notFound);
  });
  app.use('/api/v4', api);
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof Refusal) {
      res.status(error.refusal.status).json(error.refusal.body);
    } else if (error instanceof BadPageRequest) {
      res.status(400).json({ error: error.message });
    } else if (isClientError(error)) {
      // Express's own complaints, such as a malformed percent-encoding in the path.
      res.status(error.status).json({ error: `${error.status} Bad Request` });
    } else {
      log.error({ err: error }, 'GitLab stand-in failed to answer');
      res.status(500).json({ message: '500 Internal Server Error' });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;
  log.info({ url }, 'GitLab stand-in ready');
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };

  function renderer(res: Response): Renderer {
    return new Renderer(store, webOf(res));
  }

  function visibleProject(req: Request, res: Response): SeedProject {
    const caller = callerOf(res);
    requireScope(caller, ['api', 'read_api']);
    const project = store.project(String(req.params.id));
    // GitLab hides what a caller may not see behind the same 404 as what does not exist.
    if (!project || !store.canSee(project, caller)) throw new Refusal(refusals.projectNotFound);
    return project;
  }

  function readableCode(req: Request, res: Response): SeedProject {
    const project = visibleProject(req, res);
    if (!store.canReadCode(project, callerOf(res))) throw new Refusal(refusals.forbidden);
    return project;
  }
}

/**
 * The caller of a request, from `PRIVATE-TOKEN` (personal access tokens) or
 * `Authorization: Bearer` (OAuth and personal access tokens). A token GitLab does not know
 * is refused outright, even where no token would be needed.
 */
function identify(store: GitLabStore, req: Request): Caller {
  const privateToken = req.get('private-token');
  const authorization = req.get('authorization');
  if (privateToken === undefined && authorization === undefined) return undefined;

  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const token = privateToken ?? bearer;
  const caller = token ? store.tokenOwner(token) : undefined;
  if (!caller) throw new Refusal(refusals.unauthorized);
  return caller;
}

function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

function webOf(res: Response): string {
  return res.locals.web as string;
}

function requireScope(caller: Caller, anyOf: Scope[]): void {
  if (caller && !caller.scopes.some((scope) => anyOf.includes(scope))) {
    throw new Refusal(refusals.insufficientScope);
  }
}

/** GitLab's branch search: a substring, or anchored with `^term` and `term$`. */
function matchesSearch(name: string, search: string | undefined): boolean {
  if (!search) return true;
  const lower = name.toLowerCase();
  let term = search.toLowerCase();
  const start = term.startsWith('^');
  const end = term.endsWith('$');
  term = term.slice(start ? 1 : 0, end ? -1 : undefined);
  if (start && end) return lower === term;
  if (start) return lower.startsWith(term);
  if (end) return lower.endsWith(term);
  return lower.includes(term);
}

function sortBranches(project: SeedProject, branches: SeedProject['branches'], sort: unknown) {
  const date = (sha: string) => project.commits.find((commit) => commit.id === sha)!.authoredDate;
  const byName = [...branches].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sort === 'updated_asc')
    return byName.sort((a, b) => date(a.commit).localeCompare(date(b.commit)));
  if (sort === 'updated_desc')
    return byName.sort((a, b) => date(b.commit).localeCompare(date(a.commit)));
  return byName;
}

function isClientError(error: unknown): error is { status: number } {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
