import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '../../kit/src';
import {
  provisionJupyterHub,
  startJupyterHub,
  type JupyterHub,
} from '../../stack/src/services/jupyterhub';
import { readSessionsConfig, startSessionsSubgraph } from '../../subgraphs/sessions/src';
import { startIssuer, type Issuer } from '../projects/issuer';
import { countHttpRequests } from './counting-proxies';

// Issue #7: JupyterHub calls per query must not grow with the number of projects. The
// gateway asks the sessions subgraph for `Project.sessions` of a whole list in one
// entity fetch; this test sends that fetch itself, so no catalogue needs to run.

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

const log = createLogger('backend-calls', 'silent');
const sizes = [1, 10, 100];

let dataDir: string;
let hub: JupyterHub;
let hubCalls: Awaited<ReturnType<typeof countHttpRequests>>;
let issuer: Issuer;
let subgraph: Running;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'backend-calls-sessions-'));
  await provisionJupyterHub();
  hub = await startJupyterHub({ dataDir: path.join(dataDir, 'hub') });
  hubCalls = await countHttpRequests(hub.apiUrl);
  issuer = await startIssuer('renku-supergraph');
  subgraph = await startSessionsSubgraph(
    readSessionsConfig({
      PORT: '0',
      JUPYTERHUB_API_URL: hubCalls.url,
      JUPYTERHUB_URL: hub.url,
      JUPYTERHUB_API_TOKEN: hub.serviceToken,
      JUPYTERHUB_SESSIONS_DIR: hub.sessionsDir,
      KEYCLOAK_ISSUER: issuer.url,
      SESSIONS_GIT_URL: `file://${path.join(dataDir, 'git')}`,
    }),
    log,
  );
});

afterAll(async () => {
  await subgraph?.stop();
  await hubCalls?.stop();
  await issuer?.stop();
  await hub?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** What the gateway sends for `projects(first: n) { ... sessions { ... } }`. */
async function sessionsOf(n: number, authorization?: string): Promise<Answer> {
  const representations = Array.from({ length: n }, (_, i) => ({
    __typename: 'Project',
    path: `ada.analyst/calls-${String(i).padStart(3, '0')}`,
  }));
  const response = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
    body: JSON.stringify({
      query: `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Project { path sessions { name state url owner { username } } }
        }
      }`,
      variables: { representations },
    }),
  });
  return (await response.json()) as Answer;
}

async function hubCallsFor(authorization?: string): Promise<number[]> {
  const counts: number[] = [];
  for (const n of sizes) {
    hubCalls.reset();
    const answer = await sessionsOf(n, authorization);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?._entities).toHaveLength(n);
    for (const project of answer.data!._entities) expect(project.sessions).toEqual([]);
    counts.push(hubCalls.count());
  }
  if (process.env.BACKEND_CALLS_DEBUG) process.stderr.write(`hub calls: ${counts}\n`);
  return counts;
}

describe('JupyterHub calls per query', () => {
  it('asks the hub the same number of times for the sessions of 1, 10 and 100 projects', async () => {
    const counts = await hubCallsFor(`Bearer ${issuer.sign()}`);

    expect(counts[0]).toBeGreaterThan(0);
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
  });

  it('does not ask the hub at all for an anonymous caller', async () => {
    expect(await hubCallsFor()).toEqual([0, 0, 0]);
  });
});
