import {
  authenticate,
  createTokenVerifier,
  failRootFieldsOnBadToken,
  serveGraphQL,
  type Logger,
  type Running,
} from '@renku-supergraph/kit';

import type { SessionsConfig } from './config';
import { HubClient } from './hub-client';
import { ProjectAccess, createDriver } from './project-access';
import type { SessionsContext } from './resolvers';
import { buildSessionsSchema } from './schema';
import { SessionFiles } from './session-files';
import { Sessions, type ProjectGuard, type Session } from './sessions';

export { readSessionsConfig, type SessionsConfig } from './config';
export { HubClient } from './hub-client';
export { serverName } from './server-name';
export { Sessions } from './sessions';

/** What the hub service `renku-sessions` is given (see stack/jupyterhub/jupyterhub_config.py). */
const neededScopes = ['admin:users', 'servers'];

/**
 * Serves the sessions subgraph. JupyterHub need not be up yet: `/health` answers 503 and
 * session fields fail with BACKEND_UNAVAILABLE until it is. Neo4j, which says which projects
 * a caller may see, is asked only when a request needs it, and is not part of `/health`.
 */
export async function startSessionsSubgraph(config: SessionsConfig, log: Logger): Promise<Running> {
  const hub = new HubClient({ apiUrl: config.hub.apiUrl, token: config.hub.token });
  const sessions = new Sessions(hub, {
    publicUrl: config.hub.publicUrl,
    repositoryOf: config.gitBaseUrl
      ? (project) => `${config.gitBaseUrl}/${project}.git`
      : undefined,
    resourceClasses: config.resourceClasses,
    files: config.sessionsDir ? new SessionFiles(config.sessionsDir) : undefined,
  });
  const verify = createTokenVerifier(config.auth);
  const driver = createDriver(config.neo4j);
  const access = new ProjectAccess(driver, config.neo4j.database, log);

  try {
    const [version, service] = await Promise.all([hub.version(), hub.whoami()]);
    log.info({ version, service: service.name, api: config.hub.apiUrl }, 'JupyterHub answers');
    const missing = neededScopes.filter((scope) => !service.scopes.includes(scope));
    if (missing.length > 0) {
      log.warn({ missing }, 'the JupyterHub token lacks scopes that starting sessions needs');
    }
  } catch (error) {
    log.warn({ err: error, api: config.hub.apiUrl }, 'JupyterHub is not reachable yet');
  }

  let running: Running;
  try {
    running = await serveGraphQL<SessionsContext>({
      name: 'sessions',
      schema: failRootFieldsOnBadToken(buildSessionsSchema()),
      log,
      port: config.port,
      observability: config.observability,
      host: config.host,
      // With our token, so that a hub that no longer knows it is not reported ready.
      ready: async () => {
        await hub.whoami();
      },
      context: async (base) => {
        // A bad token fails every root field (failRootFieldsOnBadToken), never HTTP 500.
        const auth = await authenticate(verify, base.authorization);
        const { caller } = auth;
        const loader = access.loader(caller?.username);
        const maySee: ProjectGuard = (project) => loader.load(project);
        let mine: Promise<Session[]> | undefined;
        const readMine = caller
          ? () => (mine ??= visibleOnly(sessions.list(caller.username), maySee))
          : () => Promise.resolve([]);
        return { ...base, ...auth, sessions, mine: readMine, maySee };
      },
    });
  } catch (error) {
    await driver.close();
    throw error;
  }

  return {
    ...running,
    stop: async () => {
      await running.stop();
      await driver.close();
    },
  };
}

/** The sessions of projects the caller may still see; all their projects in one read. */
async function visibleOnly(listing: Promise<Session[]>, maySee: ProjectGuard): Promise<Session[]> {
  const sessions = await listing;
  const visible = await Promise.all(sessions.map((session) => maySee(session.project)));
  return sessions.filter((_, index) => visible[index]);
}
