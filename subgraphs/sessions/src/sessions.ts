import { setTimeout as sleep } from 'node:timers/promises';

import { HubError, type HubClient, type HubServer, type ProgressEvent } from './hub-client';
import type { ResourceClass, ResourceClasses } from './resource-classes';
import { serverName, type SessionTarget } from './server-name';
import type { SessionFiles } from './session-files';
import { stepsOf, type SessionStep } from './steps';

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
  /** Names of the environment variables it was started with. */
  environment: string[];
  steps: SessionStep[];
}

export interface SessionFilter {
  project?: string | null;
  branch?: string | null;
  commit?: string | null;
}

export interface StartRequest extends SessionTarget {
  image?: string;
  resourceClass?: string;
  /** Variables set in the session; their values are secrets to keep out of logs and answers. */
  environment?: { name: string; value: string }[];
}

/** A request the caller can correct; `kind` decides the error code the client sees. */
export class SessionError extends Error {
  constructor(
    readonly kind: 'invalid' | 'conflict' | 'limit' | 'notFound',
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

/**
 * Whether the caller may see a project (see project-access.ts). A session of a project it
 * refuses is treated as absent, and such a project cannot be started.
 */
export type ProjectGuard = (project: string) => Promise<boolean>;

const anyProject: ProjectGuard = () => Promise.resolve(true);

export interface SessionsOptions {
  /** The hub's public base URL, which session URLs start with. */
  publicUrl: string;
  /** Where a project's git repository is cloned from; none means an empty working folder. */
  repositoryOf?: (project: string) => string | undefined;
  resourceClasses: ResourceClasses;
  /** The spawner's files; without them logs are unavailable and failures fade with the hub. */
  files?: SessionFiles;
  /** How long a restart waits for the old server to stop. Default 60 s. */
  stopTimeoutMs?: number;
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

  async get(
    username: string,
    name: string,
    maySee: ProjectGuard = anyProject,
  ): Promise<Session | undefined> {
    const server = await this.hub.server(username, name);
    if (!server?.options.project || !(await maySee(server.options.project))) return undefined;
    return this.describe(username, server);
  }

  /** The resource classes a start may name. */
  get resourceClasses(): ResourceClasses {
    return this.options.resourceClasses;
  }

  /**
   * Starts the session of a project commit, or returns the one already starting or running.
   * Naming another resource class than the running one restarts it with that class, keeping
   * its working folder.
   */
  async start(
    username: string,
    request: StartRequest,
    maySee: ProjectGuard = anyProject,
  ): Promise<Session> {
    checkStartRequest(request);
    const resourceClass = this.resourceClass(request.resourceClass);
    if (!(await maySee(request.project))) {
      // The same answer as for a project that does not exist: a hidden one is not revealed.
      throw new SessionError('notFound', `project "${request.project}" not found`);
    }
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
      const changed =
        request.resourceClass !== undefined &&
        existing.options.resourceClass !== resourceClass.name;
      if (!changed) return this.describe(username, existing);
      await this.stopAndWait(username, name);
    }

    const options = startOptions(
      request,
      resourceClass,
      this.options.repositoryOf?.(request.project),
    );
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
   * Resolves false when the user has no such session or may no longer see its project.
   */
  async stop(
    username: string,
    name: string,
    force: boolean,
    maySee: ProjectGuard = anyProject,
  ): Promise<boolean> {
    const server = await this.hub.server(username, name);
    if (!server) return false;
    if (server.options.project && !(await maySee(server.options.project))) return false;
    if (server.pending === 'spawn' && !force) {
      throw new SessionError(
        'conflict',
        `session ${name} is still starting; stop it with force: true to interrupt the start`,
      );
    }
    return (await this.hub.stop(username, name, true)) !== 'absent';
  }

  /**
   * The last lines of a session's server log; undefined when the user has no such session.
   */
  async logs(
    username: string,
    name: string,
    lines: number,
    maySee: ProjectGuard = anyProject,
  ): Promise<{ lines: string[]; truncated: boolean } | undefined> {
    if (!Number.isInteger(lines) || lines < 1 || lines > maxLogLines) {
      throw new SessionError('invalid', `lines must be a whole number from 1 to ${maxLogLines}`);
    }
    const server = await this.hub.server(username, name);
    if (!server?.options.project || !(await maySee(server.options.project))) return undefined;
    if (!this.options.files) throw new SessionsUnconfigured('the session logs');
    return this.options.files.logTail(username, name, lines);
  }

  private resourceClass(name: string | undefined): ResourceClass {
    const { classes, default: fallback } = this.options.resourceClasses;
    if (name === undefined) return fallback;
    const found = classes.find((resourceClass) => resourceClass.name === name);
    if (!found) {
      const known = classes.map((resourceClass) => resourceClass.name).join(', ');
      throw new SessionError(
        'invalid',
        `resource class ${name} does not exist (available: ${known})`,
      );
    }
    return found;
  }

  /** Stops the server but keeps it and its folder, and waits until the hub says it stopped. */
  private async stopAndWait(username: string, name: string): Promise<void> {
    await this.hub.stop(username, name, false);
    const deadline = Date.now() + (this.options.stopTimeoutMs ?? 60_000);
    for (;;) {
      const server = await this.hub.server(username, name);
      if (!server || !isActive(server)) return;
      if (Date.now() > deadline) {
        throw new SessionError(
          'conflict',
          `session ${name} is still stopping to change its resource class; try again shortly`,
        );
      }
      await sleep(250);
    }
  }

  private async describe(username: string, server: HubServer): Promise<Session> {
    const { state, message, steps } = await this.stateOf(username, server);
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
      environment: server.environment,
      steps,
    };
  }

  private async stateOf(
    username: string,
    server: HubServer,
  ): Promise<{ state: SessionState; message: string | null; steps: SessionStep[] }> {
    switch (server.pending) {
      case 'spawn': {
        const events = await this.hub.progressSoFar(username, server.name);
        return {
          state: 'STARTING',
          message: latestMessage(events) ?? 'The session is starting.',
          steps: stepsOf({ state: 'STARTING', events }),
        };
      }
      case 'stop':
        return { state: 'STOPPING', message: 'The session is stopping.', steps: [] };
    }
    // `check` (the hub polling a running server) leaves a server ready in the meantime.
    if (server.ready || server.pending === 'check') {
      return { state: 'RUNNING', message: null, steps: stepsOf({ state: 'RUNNING' }) };
    }

    const failure = await this.failureOf(username, server.name);
    if (failure) {
      const message =
        failure.step === 'running'
          ? `The session stopped: ${failure.message}`
          : `The session could not start: ${failure.message}`;
      return { state: 'FAILED', message, steps: stepsOf({ state: 'FAILED', failure }) };
    }
    return {
      state: 'HIBERNATED',
      message: 'The session is stopped; starting it again resumes its working folder.',
      steps: [],
    };
  }

  /**
   * The spawner's record in the session folder first: it outlives a hub restart, which the
   * hub's own memory of a failed start does not.
   */
  private async failureOf(
    username: string,
    name: string,
  ): Promise<{ message: string; step?: string } | undefined> {
    const recorded = await this.options.files?.failure(username, name);
    if (recorded) return recorded;
    const remembered = await this.hub.failure(username, name);
    if (!remembered) return undefined;
    return { message: remembered.replace(/^Spawn failed:\s*/, '') };
  }
}

/** A feature that needs a setting the operator left out. */
export class SessionsUnconfigured extends Error {
  constructor(readonly feature: string) {
    super(`${feature} need JUPYTERHUB_SESSIONS_DIR, which is not set`);
    this.name = 'SessionsUnconfigured';
  }
}

export const maxLogLines = 5000;

function latestMessage(events: ProgressEvent[]): string | undefined {
  for (let index = events.length - 1; index >= 0; index--) {
    if (events[index].message) return events[index].message;
  }
  return undefined;
}

function isActive(server: HubServer): boolean {
  return server.ready || server.pending !== null;
}

/**
 * What the spawner reads from the start (see stack/jupyterhub): strings, and the environment
 * as an object of names to values.
 */
function startOptions(
  request: StartRequest,
  resourceClass: ResourceClass,
  repository: string | undefined,
): Record<string, unknown> {
  const options: Record<string, unknown> = {
    project: request.project,
    commit: request.commit,
    resourceClass: resourceClass.name,
  };
  if (request.branch) options.branch = request.branch;
  if (request.image) options.image = request.image;
  if (repository) options.repository = repository;
  if (request.environment?.length) {
    options.environment = Object.fromEntries(
      request.environment.map(({ name, value }) => [name, value]),
    );
  }
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
  checkEnvironment(request.environment ?? []);
}

const environmentName = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/**
 * Set by the hub or the spawner for every session: the same lists as the spawners' (local
 * stack/jupyterhub/renku_spawner.py, Kubernetes deploy/jupyterhub/renku_kubespawner.py), kept
 * equal by tests/deploy/kubespawner.test.ts.
 */
export const reservedEnvironmentNames: ReadonlySet<string> = new Set([
  'HOME',
  'PATH',
  'USER',
  'SHELL',
  'MEM_LIMIT',
  'CPU_LIMIT',
  'MEM_GUARANTEE',
  'CPU_GUARANTEE',
  'MALLOC_ARENA_MAX',
  'VIRTUAL_ENV',
  'JUPYTER_IMAGE',
  'JUPYTER_IMAGE_SPEC',
]);
export const reservedEnvironmentPrefixes = ['JUPYTERHUB_', 'JPY_'];
const maxVariables = 64;
const maxValueLength = 32 * 1024;

/** Messages name variables, never their values: those may be secrets. */
function checkEnvironment(environment: { name: string; value: string }[]): void {
  if (environment.length > maxVariables) {
    throw new SessionError('invalid', `at most ${maxVariables} environment variables`);
  }
  const seen = new Set<string>();
  for (const { name, value } of environment) {
    if (!environmentName.test(name)) {
      throw new SessionError(
        'invalid',
        `environment variable names are letters, digits and _, not starting with a digit: ${JSON.stringify(name.slice(0, 130))}`,
      );
    }
    if (
      reservedEnvironmentNames.has(name) ||
      reservedEnvironmentPrefixes.some((prefix) => name.startsWith(prefix))
    ) {
      throw new SessionError(
        'invalid',
        `environment variable ${name} is set by the session itself`,
      );
    }
    if (seen.has(name)) {
      throw new SessionError('invalid', `environment variable ${name} is given twice`);
    }
    if (value.length > maxValueLength) {
      throw new SessionError(
        'invalid',
        `environment variable ${name} is longer than ${maxValueLength} characters`,
      );
    }
    seen.add(name);
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
