import { HubError, type HubClient, type HubServer } from './hub-client';
import { serverName, type SessionTarget } from './server-name';

export type SessionState = 'STARTING' | 'RUNNING' | 'STOPPING' | 'FAILED' | 'HIBERNATED';

/** A session as the schema shows it; `project` and `owner` are the keys of their entities. */
export interface Session {
  name: string;
  project: string;
  owner: string;
  state: SessionState;
  message: string | null;
  url: string | null;
  started: Date | null;
  commit: string | null;
  branch: string | null;
  image: string | null;
  resourceClass: string | null;
}

export interface SessionFilter {
  project?: string | null;
  branch?: string | null;
  commit?: string | null;
}

export interface StartRequest extends SessionTarget {
  image?: string;
  resourceClass?: string;
}

/** A request the caller can correct; `kind` decides the error code the client sees. */
export class SessionError extends Error {
  constructor(
    readonly kind: 'invalid' | 'conflict' | 'limit',
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export interface SessionsOptions {
  /** The hub's public base URL, which session URLs start with. */
  publicUrl: string;
  /** Where a project's git repository is cloned from; none means an empty working folder. */
  repositoryOf?: (project: string) => string | undefined;
}

/** Sessions as JupyterHub named servers of a user named like the caller. */
export class Sessions {
  constructor(
    private readonly hub: HubClient,
    private readonly options: SessionsOptions,
  ) {}

  /** The user's sessions, newest first. */
  async list(username: string, filter: SessionFilter = {}): Promise<Session[]> {
    const servers = (await this.hub.servers(username)).filter((server) => server.options.project);
    const sessions = await Promise.all(servers.map((server) => this.describe(username, server)));
    return sessions.filter((session) => matches(session, filter)).sort(newestFirst);
  }

  async get(username: string, name: string): Promise<Session | undefined> {
    const server = await this.hub.server(username, name);
    if (!server?.options.project) return undefined;
    return this.describe(username, server);
  }

  /** Starts the session of a project commit, or returns the one already starting or running. */
  async start(username: string, request: StartRequest): Promise<Session> {
    checkStartRequest(request);
    const name = serverName(request);
    await this.hub.ensureUser(username);

    const existing = await this.hub.server(username, name);
    if (existing && isActive(existing)) {
      if (existing.pending === 'stop') {
        throw new SessionError(
          'conflict',
          `session ${name} is stopping; start it again once it has stopped`,
        );
      }
      return this.describe(username, existing);
    }

    const options = startOptions(request, this.options.repositoryOf?.(request.project));
    try {
      await this.hub.start(username, name, options);
    } catch (error) {
      if (!(error instanceof HubError) || error.status !== 400) throw error;
      // Started by a concurrent request in the meantime: that one is the answer.
      const raced = await this.hub.server(username, name);
      if (raced && isActive(raced)) return this.describe(username, raced);
      // The hub has no error codes; its named server limit is told apart by its message only.
      if (/maximum/i.test(error.message)) {
        throw new SessionError(
          'limit',
          'you have as many sessions as you may; stop one and try again',
        );
      }
      throw error;
    }

    const started = await this.hub.server(username, name);
    if (!started)
      throw new Error(`JupyterHub lost server ${name} of ${username} right after starting it`);
    return this.describe(username, started);
  }

  /**
   * Stops a session and removes it. A start in progress is interrupted only when forced.
   * Resolves false when the user has no such session.
   */
  async stop(username: string, name: string, force: boolean): Promise<boolean> {
    const server = await this.hub.server(username, name);
    if (!server) return false;
    if (server.pending === 'spawn' && !force) {
      throw new SessionError(
        'conflict',
        `session ${name} is still starting; stop it with force: true to interrupt the start`,
      );
    }
    return (await this.hub.stop(username, name, true)) !== 'absent';
  }

  private async describe(username: string, server: HubServer): Promise<Session> {
    const { state, message } = await this.stateOf(username, server);
    const live = state === 'STARTING' || state === 'RUNNING';
    return {
      name: server.name,
      project: server.options.project,
      owner: username,
      state,
      message,
      url: live ? `${this.options.publicUrl}${server.path}` : null,
      started: state === 'RUNNING' ? server.started : null,
      commit: server.options.commit ?? null,
      branch: server.options.branch ?? null,
      image: server.options.image ?? null,
      resourceClass: server.options.resourceClass ?? null,
    };
  }

  private async stateOf(
    username: string,
    server: HubServer,
  ): Promise<{ state: SessionState; message: string | null }> {
    switch (server.pending) {
      case 'spawn':
        return { state: 'STARTING', message: 'The session is starting.' };
      case 'stop':
        return { state: 'STOPPING', message: 'The session is stopping.' };
    }
    // `check` (the hub polling a running server) leaves a server ready in the meantime.
    if (server.ready || server.pending === 'check') return { state: 'RUNNING', message: null };

    const failure = await this.hub.failure(username, server.name);
    if (failure) {
      const reason = failure.replace(/^Spawn failed:\s*/, '');
      return { state: 'FAILED', message: `The session could not start: ${reason}` };
    }
    return {
      state: 'HIBERNATED',
      message: 'The session is stopped; starting it again resumes its working folder.',
    };
  }
}

function isActive(server: HubServer): boolean {
  return server.ready || server.pending !== null;
}

/** What the spawner reads from the start; every value a string (see stack/jupyterhub). */
function startOptions(
  request: StartRequest,
  repository: string | undefined,
): Record<string, string> {
  const options: Record<string, string> = { project: request.project, commit: request.commit };
  if (request.branch) options.branch = request.branch;
  if (request.image) options.image = request.image;
  if (request.resourceClass) options.resourceClass = request.resourceClass;
  if (repository) options.repository = repository;
  return options;
}

const projectPath = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
const commitId = /^[0-9a-f]{7,64}$/i;
const branchName = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/+-]{1,255}$/;
const imageName = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;
const resourceClassName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkStartRequest(request: StartRequest): void {
  const checks: [string | undefined, RegExp, string][] = [
    [request.project, projectPath, 'project must be a path like namespace/name'],
    [request.commit, commitId, 'commit must be a commit id of 7 to 64 hexadecimal digits'],
    [request.branch, branchName, 'branch is not a valid branch name'],
    [request.image, imageName, 'image is not a valid image name'],
    [request.resourceClass, resourceClassName, 'resourceClass is not a valid resource class name'],
  ];
  for (const [value, pattern, problem] of checks) {
    if (value !== undefined && !pattern.test(value)) throw new SessionError('invalid', problem);
  }
}

/** Whether a session passes the filters of `Query.sessions`. */
export function matches(session: Session, filter: SessionFilter): boolean {
  if (filter.project && session.project !== filter.project) return false;
  if (filter.branch && session.branch !== filter.branch) return false;
  if (filter.commit) {
    // An abbreviated id matches the full one and the other way round.
    const [a, b] = [filter.commit.toLowerCase(), (session.commit ?? '').toLowerCase()];
    if (!b || !(a.startsWith(b) || b.startsWith(a))) return false;
  }
  return true;
}

function newestFirst(a: Session, b: Session): number {
  const time = (session: Session) => session.started?.getTime() ?? 0;
  return time(b) - time(a) || a.name.localeCompare(b.name);
}
