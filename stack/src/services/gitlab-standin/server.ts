import type { Logger } from '@renku-supergraph/kit';
import express, { type NextFunction, type Request, type Response } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { graphqlRoute } from './graphql';
import { oauthRoutes } from './oauth';
import { BadParameter, sendPage } from './pagination';
import { Renderer } from './render';
import { defaultSeedFile, loadSeed, type Scope, type SeedProject, type Visibility } from './seed';
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
  /** Lifetime of the OAuth access tokens it issues; default 7200 s, as GitLab's. */
  accessTokenLifetimeSec?: number;
  log: Logger;
}

export interface RunningStandin {
  /** The base URL, without `/api/v4`, as GITLAB_URL takes it. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The `get` routes served, in the notation of the vendored spec. */
export const servedPaths = {
  currentUser: '/api/v4/user',
  project: '/api/v4/projects/{id}',
  branches: '/api/v4/projects/{id}/repository/branches',
  branch: '/api/v4/projects/{id}/repository/branches/{branch}',
  commits: '/api/v4/projects/{id}/repository/commits',
  members: '/api/v4/projects/{id}/members/all',
  tree: '/api/v4/projects/{id}/repository/tree',
  file: '/api/v4/projects/{id}/repository/files/{file_path}',
} as const;

/** The `put` routes served, in the notation of the vendored spec. */
export const servedPutPaths = {
  project: '/api/v4/projects/{id}',
} as const;

/** What `PUT /projects/:id` takes here; GitLab takes many more project settings. */
const editableAttributes = ['description', 'topics', 'visibility'] as const;
const visibilities: readonly string[] = ['private', 'internal', 'public'];

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
  treeNotFound: { status: 404, body: { message: '404 Tree Not Found' } },
  commitNotFound: { status: 404, body: { message: '404 Commit Not Found' } },
  fileNotFound: { status: 404, body: { message: '404 File Not Found' } },
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
  const store = new GitLabStore(loadSeed(options.seedFile ?? defaultSeedFile), {
    accessTokenLifetimeSec: options.accessTokenLifetimeSec,
  });
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
  app.use(oauthRoutes(store, { externalUrl: options.externalUrl, log }));

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
    const caller = callerOf(res);
    // GitLab adds statistics only for those who may read them, reporters and up, and leaves
    // them out silently for everyone else.
    const withStatistics =
      readBoolean(req.query.statistics, 'statistics') &&
      store.accessLevel(project, caller) >= reporter;
    res.json(renderer(res).project(project, caller, { withStatistics }));
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

  api.get(route(servedPaths.tree), (req, res) => {
    const project = readableCode(req, res);
    const ref = typeof req.query.ref === 'string' ? req.query.ref : project.defaultBranch;
    const folder =
      typeof req.query.path === 'string' ? req.query.path.replace(/^\/+|\/+$/g, '') : '';
    const recursive = readBoolean(req.query.recursive, 'recursive');
    const head = store.resolveRef(project, ref);
    const snapshot = head ? store.snapshot(project, head) : undefined;
    if (!snapshot?.hasTree(folder)) throw new Refusal(refusals.treeNotFound);
    sendPage(
      req,
      res,
      webOf(res),
      snapshot.entries(folder, recursive).map((entry) => renderer(res).treeEntry(entry)),
    );
  });

  api.get(route(servedPaths.file), (req, res) => {
    const project = readableCode(req, res);
    const ref = req.query.ref;
    if (typeof ref !== 'string' || ref === '') throw new BadParameter('ref is missing');
    const commit = store.resolveRef(project, ref);
    if (!commit) throw new Refusal(refusals.commitNotFound);
    // Express has decoded the parameter once: `data%2Fa%20b.csv` is `data/a b.csv` here.
    const blob = store.snapshot(project, commit).blob(String(req.params.file_path));
    if (!blob) throw new Refusal(refusals.fileNotFound);
    res.json(renderer(res).file(blob, ref, commit, store.lastChange(project, commit, blob.path)));
  });

  api.get(route(servedPaths.members), (req, res) => {
    // Anyone who sees a project sees its members, guests and anonymous callers included.
    const project = visibleProject(req, res);
    const userIds = readUserIds(req.query.user_ids);
    const query = typeof req.query.query === 'string' ? req.query.query.toLowerCase() : '';
    const members = store
      .members(project)
      .filter((member) => userIds === undefined || userIds.includes(member.user.id))
      .filter(
        (member) =>
          member.user.username.toLowerCase().includes(query) ||
          member.user.name.toLowerCase().includes(query),
      );
    sendPage(
      req,
      res,
      webOf(res),
      members.map((member) => renderer(res).member(member)),
    );
  });

  api.put(
    route(servedPutPaths.project),
    express.json(),
    express.urlencoded({ extended: false }),
    multipartForm,
    (req, res) => {
      // GitLab's order: authentication, then the parameters, then the project, then the role.
      const caller = callerOf(res);
      if (!caller) throw new Refusal(refusals.unauthorized);
      requireScope(caller, ['api']);
      const change = readProjectChange(req.body);
      const project = visibleProject(req, res);
      if (store.accessLevel(project, caller) < maintainer) throw new Refusal(refusals.forbidden);

      if (change.description !== undefined) project.description = change.description;
      if (change.topics !== undefined) project.topics = change.topics;
      if (change.visibility !== undefined) project.visibility = change.visibility;
      res.json(renderer(res).project(project, caller, { withPermissions: false }));
    },
  );

  api.use(() => {
    throw new Refusal(refusals.notFound);
  });
  app.use('/api/v4', api);
  app.use('/api/graphql', graphqlRoute(store, options.externalUrl));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof Refusal) {
      res.status(error.refusal.status).json(error.refusal.body);
    } else if (error instanceof BadParameter) {
      res.status(400).json({ error: error.message });
    } else if (isClientError(error)) {
      // Express's own complaints, such as a malformed percent-encoding in the path or a body
      // that does not parse.
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

/** GitLab's Reporter role: the least that may read a project's statistics. */
const reporter = 20;
/** GitLab's Maintainer role: the least that may edit a project's settings. */
const maintainer = 40;

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

/**
 * The attributes of `PUT /projects/:id` that the stand-in keeps, checked as GitLab's
 * parameter validation does: a 400 naming the attribute, before the project is looked up.
 */
function readProjectChange(body: unknown): {
  description?: string;
  topics?: string[];
  visibility?: Visibility;
} {
  const params = (body ?? {}) as Record<string, unknown>;
  if (!editableAttributes.some((name) => params[name] !== undefined)) {
    throw new BadParameter(
      `${editableAttributes.join(', ')} are missing, at least one parameter must be provided`,
    );
  }

  const { description, topics, visibility } = params;
  if (description !== undefined && typeof description !== 'string') {
    throw new BadParameter('description is invalid');
  }
  if (visibility !== undefined && !visibilities.includes(visibility as string)) {
    throw new BadParameter('visibility does not have a valid value');
  }
  return {
    description,
    topics: topics === undefined ? undefined : readTopics(topics),
    visibility: visibility as Visibility | undefined,
  };
}

/**
 * `topics` as a list or a comma-separated string; GitLab trims each, drops empty ones and
 * keeps the first of names that differ only in case.
 */
function readTopics(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (!list || !list.every((topic) => typeof topic === 'string')) {
    throw new BadParameter('topics is invalid');
  }
  const seen = new Set<string>();
  const topics: string[] = [];
  for (const topic of (list as string[]).map((each) => each.trim())) {
    if (topic === '' || seen.has(topic.toLowerCase())) continue;
    seen.add(topic.toLowerCase());
    topics.push(topic);
  }
  return topics;
}

/**
 * Reads a `multipart/form-data` body (GitLab's spec declares that form for `PUT`) with the
 * platform's own form parser; repeated fields such as `topics[]` become lists.
 */
async function multipartForm(req: Request, _res: Response, next: NextFunction): Promise<void> {
  if (!req.is('multipart/form-data')) return next();
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = await new globalThis.Request('http://127.0.0.1/', {
      method: 'PUT',
      headers: { 'content-type': req.get('content-type')! },
      body: Buffer.concat(chunks),
    }).formData();
    const body: Record<string, string | string[]> = {};
    for (const [key, value] of form.entries()) {
      if (typeof value !== 'string') continue;
      const name = key.replace(/\[\]$/, '');
      const known = body[name];
      if (key.endsWith('[]')) body[name] = [...(Array.isArray(known) ? known : []), value];
      else body[name] = value;
    }
    req.body = body;
    next();
  } catch {
    next(new BadParameter('the multipart body does not parse'));
  }
}

/** A Boolean query parameter as Grape reads it; absent is false. */
function readBoolean(raw: unknown, name: string): boolean {
  if (raw === undefined) return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new BadParameter(`${name} is invalid`);
}

/** `user_ids=1,2` as GitLab's array parameters take it; anything else is a 400. */
function readUserIds(raw: unknown): number[] | undefined {
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw.join(',') : String(raw);
  if (!/^\d+(,\d+)*$/.test(text)) throw new BadParameter('user_ids is invalid');
  return text.split(',').map(Number);
}

function isClientError(error: unknown): error is { status: number } {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
