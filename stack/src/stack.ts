import fs from 'node:fs';
import path from 'node:path';

import { loadBikeCountsDemo } from './demo-bike-counts';
import { ingestDemo } from './demo-ingest';
import { repoRoot } from './paths';
import { assertPortFree, freePort } from './ports';
import type { Service } from './process';
import { step } from './progress';
import {
  createDemoRepository,
  hubOAuthClient,
  provisionJupyterHub,
  startJupyterHub,
} from './services/jupyterhub';
import { startGitLabStandin } from './services/gitlab';
import { provisionKeycloak, startKeycloak } from './services/keycloak';
import { provisionNeo4j, startNeo4j } from './services/neo4j';
import { startNodeService } from './subgraph-process';

/** The ports of the local stack, as the README documents them. */
export const defaultPorts = {
  gateway: 4000,
  identity: 4001,
  projects: 4002,
  lineage: 4003,
  sessions: 4004,
  gitlab: 4005,
  neo4j: 7687,
  keycloak: 8080,
  keycloakManagement: 9000,
  jupyterhub: 8000,
  jupyterhubApi: 8081,
  jupyterhubProxyApi: 8001,
  gitlabStandin: 8929,
};

export type Ports = typeof defaultPorts;

export interface StackOptions {
  /** `default` for the documented ports, `free` for tests running side by side. */
  ports: 'default' | 'free';
  /** State and logs of every service. */
  dataDir: string;
  /** Load the demo project (default true). */
  demo?: boolean;
}

export interface Stack {
  gatewayUrl: string;
  ports: Ports;
  keycloak: { issuer: string; url: string };
  jupyterhub: { url: string; apiUrl: string };
  gitlabUrl: string;
  neo4jUrl: string;
  logDir: string;
  stop(): Promise<void>;
  /** Stops one service and leaves the rest running, to see how the others cope without it. */
  stopService(name: StackService): Promise<void>;
  /** Starts a service stopped by `stopService` again, on the same ports and data. */
  startService(name: StackService): Promise<void>;
}

interface Restartable {
  start: () => Promise<Service>;
  /** Absent while stopped. */
  running?: Service;
}

/** The services of a stack that can be stopped and started one at a time. */
export type StackService =
  | 'neo4j'
  | 'keycloak'
  | 'jupyterhub'
  | 'gitlabStandin'
  | 'identity'
  | 'projects'
  | 'lineage'
  | 'sessions'
  | 'gitlab'
  | 'gateway';

/** Installs what the services need; each step is skipped when already done. */
export async function provisionStack(): Promise<void> {
  // Maven runs one at a time: both builds share ~/.m2.
  await Promise.all([
    (async () => {
      await provisionNeo4j();
      await provisionKeycloak();
    })(),
    provisionJupyterHub(),
  ]);
}

/**
 * Starts the whole stack: the real backends, the demo data, the subgraphs and
 * the gateway. On any failure everything already started is stopped again.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const ports = await choosePorts(options.ports);
  const logDir = path.join(options.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const started: Service[] = [];
  // Waits for every start, so a failure of one never leaves another running
  // unrecorded; then fails with the first error.
  const all = async <T extends unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }) => {
    const settled = await Promise.allSettled(starts);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as T;
  };
  const stopAll = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
  };
  // Each service remembers how it was started, so that it can start again the same way.
  const restartable = new Map<StackService, Restartable>();
  const stopEntry = async (entry: Restartable) => {
    const running = entry.running;
    entry.running = undefined;
    await running?.stop();
  };
  const keepAs = async <T extends Service>(name: StackService, start: () => Promise<T>) => {
    const service = await start();
    const entry: Restartable = { start, running: service };
    restartable.set(name, entry);
    started.push({ name: service.name, url: service.url, stop: () => stopEntry(entry) });
    return service;
  };
  const entryOf = (name: StackService) => {
    const entry = restartable.get(name);
    if (!entry) throw new Error(`the stack has no service named ${name}`);
    return entry;
  };
  const stopService = (name: StackService) => stopEntry(entryOf(name));
  const startService = async (name: StackService) => {
    const entry = entryOf(name);
    if (!entry.running) entry.running = await entry.start();
  };

  try {
    step('starting Neo4j, Keycloak, JupyterHub and the GitLab stand-in');
    const [neo4j, keycloak, hub, gitlab] = await all([
      keepAs('neo4j', async () => {
        const start = () =>
          startNeo4j({
            boltPort: ports.neo4j,
            dataDir: path.join(options.dataDir, 'neo4j'),
            logFile: path.join(logDir, 'neo4j.log'),
          });
        try {
          return await start();
        } catch (error) {
          // A free port chosen ahead can be taken before Neo4j binds it, when stacks start side
          // by side (tests): the first start tries a new one. A restart keeps the port it had.
          const lostRace = /already in use/.test(String(error));
          if (options.ports !== 'free' || restartable.has('neo4j') || !lostRace) throw error;
          ports.neo4j = await freePort();
          return start();
        }
      }),
      keepAs('keycloak', () =>
        startKeycloak({
          httpPort: ports.keycloak,
          managementPort: ports.keycloakManagement,
          dataDir: path.join(options.dataDir, 'keycloak'),
          logFile: path.join(logDir, 'keycloak.log'),
          adminPasswordFile: path.join(options.dataDir, 'keycloak-admin-password'),
          // "Sign in with GitLab" at Keycloak goes to the stand-in (identity brokering).
          gitlabUrl: `http://127.0.0.1:${ports.gitlabStandin}`,
        }),
      ),
      keepAs('jupyterhub', () =>
        startJupyterHub({
          port: ports.jupyterhub,
          hubPort: ports.jupyterhubApi,
          proxyApiPort: ports.jupyterhubProxyApi,
          dataDir: path.join(options.dataDir, 'jupyterhub'),
          logFile: path.join(logDir, 'jupyterhub.log'),
          // People open their sessions after signing in with Keycloak; the realm knows the
          // hub's callback on the default port only.
          keycloak: {
            issuer: `http://127.0.0.1:${ports.keycloak}/realms/renku`,
            clientSecret: hubOAuthClient.devSecret,
          },
        }),
      ),
      keepAs('gitlabStandin', () => startGitLabStandin({ port: ports.gitlabStandin })),
    ]);

    if (options.demo ?? true) {
      step('loading the demo project ada.analyst/tutorial-zhbikes into Neo4j');
      await ingestDemo(
        neo4j.url,
        logDir,
        'ada.analyst/tutorial-zhbikes',
        path.join(repoRoot, 'demo', 'tutorial-zhbikes', 'source.ld.json'),
      );
    }

    // Sessions check out the demo project from a local repository (GitLab cannot run here).
    const repository = await createDemoRepository(path.join(options.dataDir, 'git'));
    if (options.demo ?? true) {
      await loadBikeCountsDemo(path.join(options.dataDir, 'git'), neo4j.url, logDir);
    }

    step('starting the subgraphs');
    const keycloakEnv = {
      KEYCLOAK_URL: keycloak.url,
      KEYCLOAK_REALM: 'renku',
      KEYCLOAK_ISSUER: keycloak.issuer,
      KEYCLOAK_JWKS_URL: `${keycloak.issuer}/protocol/openid-connect/certs`,
      KEYCLOAK_AUDIENCE: 'renku-supergraph',
    };
    const neo4jEnv = { NEO4J_URI: neo4j.url };
    const subgraphs = await all([
      keepAs('identity', () =>
        startNodeService({
          name: 'identity',
          workspace: 'subgraphs/identity',
          port: ports.identity,
          env: { ...keycloakEnv, IDENTITY_CLIENT_SECRET: keycloak.identityClientSecret },
          logDir,
        }),
      ),
      keepAs('projects', () =>
        startNodeService({
          name: 'projects',
          workspace: 'subgraphs/projects',
          port: ports.projects,
          // updateProject changes GitLab first, as the caller.
          env: { ...neo4jEnv, ...keycloakEnv, GITLAB_URL: gitlab.url },
          logDir,
        }),
      ),
      keepAs('lineage', () =>
        startNodeService({
          name: 'lineage',
          workspace: 'subgraphs/lineage',
          port: ports.lineage,
          // Pushes sync members from GitLab; the stand-in has no admin, and Ada's token sees
          // every project the demo activates.
          env: {
            ...neo4jEnv,
            ...keycloakEnv,
            GITLAB_URL: gitlab.url,
            GITLAB_SERVICE_TOKEN: 'glpat-standin-ada-analyst-api',
          },
          logDir,
        }),
      ),
      keepAs('sessions', () =>
        startNodeService({
          name: 'sessions',
          workspace: 'subgraphs/sessions',
          port: ports.sessions,
          env: {
            ...neo4jEnv,
            ...keycloakEnv,
            JUPYTERHUB_URL: hub.url,
            JUPYTERHUB_API_URL: hub.apiUrl,
            JUPYTERHUB_API_TOKEN: hub.serviceToken,
            JUPYTERHUB_SESSIONS_DIR: hub.sessionsDir,
            SESSIONS_GIT_URL: repository.baseUrl,
          },
          logDir,
        }),
      ),
      keepAs('gitlab', () =>
        startNodeService({
          name: 'gitlab',
          workspace: 'mesh',
          port: ports.gitlab,
          env: { GITLAB_URL: gitlab.url },
          logDir,
        }),
      ),
    ]);

    step('starting the gateway');
    const subgraphUrls = Object.fromEntries(
      subgraphs.map((subgraph) => [`SUBGRAPH_${subgraph.name.toUpperCase()}_URL`, subgraph.url]),
    );
    const gateway = await keepAs('gateway', () =>
      startNodeService({
        name: 'gateway',
        workspace: 'supergraph',
        port: ports.gateway,
        // Two cores run every backend here: allow slow answers that a
        // deployment (default 10 s) would treat as a failure.
        env: {
          ...subgraphUrls,
          ...keycloakEnv,
          SUBGRAPH_TIMEOUT_MS: '30000',
          // Browser sign-in at /auth/login; Keycloak knows the callback of port 4000 only.
          KEYCLOAK_GATEWAY_CLIENT_SECRET: keycloak.gatewayClientSecret,
          GATEWAY_PUBLIC_URL: `http://localhost:${ports.gateway}`,
          // Users who signed in with a password have no brokered GitLab token; the demo realm
          // gives Ada a stand-in token in userinfo instead (stack/keycloak/README.md).
          GITLAB_TOKEN_USERINFO_CLAIM: 'gitlab_token',
        },
        logDir,
      }),
    );

    return {
      gatewayUrl: gateway.url.replace('127.0.0.1', 'localhost'),
      ports,
      keycloak: { issuer: keycloak.issuer, url: keycloak.url },
      jupyterhub: { url: hub.url, apiUrl: hub.apiUrl },
      gitlabUrl: gitlab.url,
      neo4jUrl: neo4j.url,
      logDir,
      stop: stopAll,
      stopService,
      startService,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function choosePorts(kind: StackOptions['ports']): Promise<Ports> {
  const ports = { ...defaultPorts };
  for (const name of Object.keys(ports) as (keyof Ports)[]) {
    if (kind === 'free') ports[name] = await freePort();
    else await assertPortFree(ports[name], name);
  }
  return ports;
}
