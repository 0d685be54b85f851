import { createLogger, readTokenVerifierOptions, type Running } from '@renku-supergraph/kit';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';

import { sleep } from '../../stack/src/process';
import { startGitLabStandin } from '../../stack/src/services/gitlab';
import { loadSeed, type Seed } from '../../stack/src/services/gitlab-standin/seed';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import {
  activateLineage,
  ingestDocument,
  startLineageSubgraph,
} from '../../subgraphs/lineage/src/index';
import { fetchProjectMembers } from '../../subgraphs/lineage/src/webhooks/gitlab-members';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { startIssuer, type Issuer } from '../projects/issuer';
import { sha, zeroXDocument } from './documents';

// Issue #4 item 6: GitLab decides who is a member of a private project; a push brings that
// decision into the graph that the projects and lineage subgraphs authorize with.

const log = createLogger('member-sync-test', (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent');
const audience = 'renku-supergraph';
const serviceToken = 'glpat-test-member-sync';
const systemHookToken = 'system-hook-secret-for-tests';

/** The stand-in's private `ada.analyst/bike-forecast` (id 2), members as the test says. */
const projectPath = 'ada.analyst/bike-forecast';
const gitlabProjectId = 2;

/** The default seed, plus a service user that is a reporter of the project, as a bot is. */
function seedWith(members: { userId: number; accessLevel: number }[]): Seed {
  const seed = loadSeed();
  seed.users.push({
    id: 90,
    username: 'lineage-sync-bot',
    name: 'Lineage sync',
    email: 'lineage-sync@example.org',
    namespaceId: 190,
    createdAt: '2026-01-01T00:00:00.000Z',
  } as Seed['users'][number]);
  seed.tokens.push({ token: serviceToken, userId: 90, name: 'member sync', scopes: ['read_api'] });
  const project = seed.projects.find((p) => p.id === gitlabProjectId);
  if (!project) throw new Error('the default seed lost project 2');
  project.members = [...members, { userId: 90, accessLevel: 20 }] as typeof project.members;
  return seed;
}

let dataDir: string;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let driver: Driver;
let issuer: Issuer;
let gitlab: Awaited<ReturnType<typeof startGitLabStandin>> | undefined;
let gitlabPort: number;
let lineage: Running;
let projects: Running;
let secret: string;

async function startGitLab(seed: Seed, port = 0) {
  const seedFile = path.join(dataDir, `seed-${Date.now()}.json`);
  await writeFile(seedFile, JSON.stringify(seed));
  gitlab = await startGitLabStandin({ port, seedFile, log });
  gitlabPort = gitlab.port;
}

async function stopGitLab() {
  await gitlab?.stop();
  gitlab = undefined;
}

beforeAll(async () => {
  await provisionNeo4j();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'lineage-member-sync-'));
  database = await startNeo4j({ dataDir: path.join(dataDir, 'neo4j') });
  driver = neo4j.driver(database.url);
  issuer = await startIssuer(audience);
  // ada.analyst owner, ben.bayes developer.
  await startGitLab(
    seedWith([
      { userId: 1, accessLevel: 50 },
      { userId: 2, accessLevel: 30 },
    ]),
  );

  const auth = readTokenVerifierOptions({
    KEYCLOAK_ISSUER: issuer.url,
    KEYCLOAK_AUDIENCE: audience,
  });
  lineage = await startLineageSubgraph(
    {
      port: 0,
      host: '127.0.0.1',
      neo4j: { uri: database.url },
      auth,
      webhooks: {
        pollMs: 200,
        retryBaseMs: 200,
        gitlab: { url: gitlab!.url, serviceToken },
        systemHookToken,
      },
    },
    log,
  );
  projects = await startProjectsSubgraph(
    readProjectsConfig({
      PORT: '0',
      NEO4J_URI: database.url,
      KEYCLOAK_ISSUER: issuer.url,
      KEYCLOAK_AUDIENCE: audience,
    }),
    log,
  );

  secret = await activateLineage(driver, projectPath);
  const document = zeroXDocument(
    [
      {
        commit: sha('forecast-1'),
        command: 'python src/fit.py data/counts.csv model.pkl',
        used: ['data/counts.csv'],
        generated: ['model.pkl'],
        at: '2026-11-01T10:00:00',
      },
    ],
    [{ commit: sha('forecast-0'), path: 'data/counts.csv' }],
  );
  await ingestDocument(driver, { projectPath, visibility: 'private' }, document);
});

afterAll(async () => {
  await projects?.stop();
  await lineage?.stop();
  await stopGitLab();
  await issuer?.stop();
  await driver?.close();
  await database?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

let pushes = 0;
/** A push to the default branch; resolves with the event's final status message. */
async function push(): Promise<{ status: string; message: string }> {
  pushes += 1;
  const response = await fetch(lineage.url.replace(/\/graphql$/, '/webhooks/gitlab'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': secret,
    },
    body: JSON.stringify({
      object_kind: 'push',
      before: '0'.repeat(40),
      after: sha(`member-sync-push-${pushes}`),
      ref: 'refs/heads/main',
      project: { id: gitlabProjectId, path_with_namespace: projectPath, default_branch: 'main' },
    }),
  });
  const body = (await response.json()) as { status: string; event: string };
  expect(response.status).toBe(202);
  expect(body.status).toBe('accepted');
  return settled(body.event);
}

/** An event's final status and message, once the worker is done with it. */
async function settled(id: string): Promise<{ status: string; message: string }> {
  for (let waited = 0; waited < 30_000; waited += 100) {
    const session = driver.session();
    try {
      const result = await session.run(
        'MATCH (e:IngestEvent {id: $id}) RETURN e.status AS status, e.message AS message',
        { id },
      );
      const status = result.records[0]?.get('status') as string;
      if (status === 'done' || status === 'failed') {
        return { status, message: result.records[0].get('message') as string };
      }
    } finally {
      await session.close();
    }
    await sleep(100);
  }
  throw new Error(`event ${id} was not processed within 30 s`);
}

/** A GitLab system hook delivery, with GitLab's headers unless `headers` replaces them. */
async function systemHook(body: object, headers: Record<string, string> = {}) {
  const response = await fetch(lineage.url.replace(/\/graphql$/, '/webhooks/gitlab/system'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'System Hook',
      'x-gitlab-token': systemHookToken,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      status?: string;
      events?: string[];
      reason?: string;
      error?: string;
    },
  };
}

/** What GitLab sends when a project member is added, removed or changed. */
const memberEvent = (eventName: string, username: string) => ({
  event_name: eventName,
  created_at: new Date().toISOString(),
  project_id: gitlabProjectId,
  project_path_with_namespace: projectPath,
  user_username: username,
  access_level: 'Developer',
});

async function ask(url: string, username: string, query: string) {
  const token = issuer.sign({ preferred_username: username, sub: `user-${username}` });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { extensions?: { code?: string } }[];
  };
}

/** What `username` sees of the project: its catalogue entry, and whether lineage answers. */
async function sees(username: string) {
  const catalogue = await ask(
    projects.url,
    username,
    `{ project(path: "${projectPath}") { path visibility } }`,
  );
  const provenance = await ask(
    lineage.url,
    username,
    `{ lineage(projectPath: "${projectPath}", filePath: "model.pkl") { nodes { id type } } }`,
  );
  return {
    project: catalogue.data?.project ?? null,
    lineageNodes: (provenance.data?.lineage as { nodes: unknown[] } | undefined)?.nodes.length ?? 0,
    lineageError: provenance.errors?.[0]?.extensions?.code ?? null,
  };
}

/** The events the project's lineageStatus counts. */
async function lineageEvents(): Promise<number> {
  const status = await ask(
    lineage.url,
    'ada.analyst',
    `{ lineageStatus(projectPath: "${projectPath}") { progress { total } } }`,
  );
  return (status.data?.lineageStatus as { progress: { total: number } }).progress.total;
}

async function memberships() {
  const session = driver.session();
  try {
    const result = await session.run(
      `MATCH (m:Member)-[r:MEMBER_OF]->(:Project {path: $projectPath})
       RETURN m.username AS username, r.role AS role ORDER BY username`,
      { projectPath },
    );
    return result.records.map((record) => record.toObject());
  } finally {
    await session.close();
  }
}

describe('project membership synced from GitLab on push', () => {
  it('keeps a private project from a GitLab member until a push brings the membership', async () => {
    expect(await sees('ben.bayes')).toEqual({
      project: null,
      lineageNodes: 0,
      lineageError: 'NOT_FOUND',
    });
  });

  it("gives GitLab members access after a push, GitLab roles mapped onto the graph's", async () => {
    const event = await push();

    expect(event.status).toBe('done');
    expect(event.message).toContain('3 members synced from GitLab');
    expect(await memberships()).toEqual([
      { username: 'ada.analyst', role: 'owner' },
      { username: 'ben.bayes', role: 'reader' },
      { username: 'lineage-sync-bot', role: 'reader' },
    ]);
    const ben = await sees('ben.bayes');
    expect(ben.project).toEqual({ path: projectPath, visibility: 'PRIVATE' });
    expect(ben.lineageNodes).toBe(3);
  });

  it('reads every page of members/all', async () => {
    const members = await fetchProjectMembers(
      { url: gitlab!.url, serviceToken },
      gitlabProjectId,
      1,
    );
    expect(members.map((member) => member.username).sort()).toEqual([
      'ada.analyst',
      'ben.bayes',
      'lineage-sync-bot',
    ]);
  });

  it('applies the same membership again without change', async () => {
    const before = await memberships();
    await push();
    expect(await memberships()).toEqual(before);
  });

  it('takes access away from a member GitLab removed, at the next push', async () => {
    await stopGitLab();
    await startGitLab(seedWith([{ userId: 1, accessLevel: 40 }]), gitlabPort);

    const event = await push();

    expect(event.status).toBe('done');
    expect(await memberships()).toEqual([
      { username: 'ada.analyst', role: 'maintainer' },
      { username: 'lineage-sync-bot', role: 'reader' },
    ]);
    expect(await sees('ben.bayes')).toEqual({
      project: null,
      lineageNodes: 0,
      lineageError: 'NOT_FOUND',
    });
    expect((await sees('ada.analyst')).project).toEqual({
      path: projectPath,
      visibility: 'PRIVATE',
    });
  });

  it('gives access at once when a system hook says a member was added, without a push', async () => {
    await stopGitLab();
    await startGitLab(
      seedWith([
        { userId: 1, accessLevel: 40 },
        { userId: 2, accessLevel: 30 },
      ]),
      gitlabPort,
    );
    const pushes = await lineageEvents();

    const hook = await systemHook(memberEvent('user_add_to_team', 'ben.bayes'));

    expect(hook.status).toBe(202);
    expect(hook.body.status).toBe('accepted');
    expect(hook.body.events).toHaveLength(1);
    expect(await settled(hook.body.events![0])).toEqual({
      status: 'done',
      message: '3 members synced from GitLab',
    });
    expect((await sees('ben.bayes')).project).toEqual({ path: projectPath, visibility: 'PRIVATE' });
    // A member event is not a push: the project's lineage status does not count it.
    expect(await lineageEvents()).toBe(pushes);
  });

  it('takes access away at once when a system hook says a member was removed', async () => {
    await stopGitLab();
    await startGitLab(seedWith([{ userId: 1, accessLevel: 40 }]), gitlabPort);

    const hook = await systemHook(memberEvent('user_remove_from_team', 'ben.bayes'));
    await settled(hook.body.events![0]);

    expect(await sees('ben.bayes')).toEqual({
      project: null,
      lineageNodes: 0,
      lineageError: 'NOT_FOUND',
    });
    expect(await memberships()).toEqual([
      { username: 'ada.analyst', role: 'maintainer' },
      { username: 'lineage-sync-bot', role: 'reader' },
    ]);
  });

  it('resyncs the projects under a group when one of its members changes', async () => {
    await stopGitLab();
    await startGitLab(seedWith([{ userId: 1, accessLevel: 50 }]), gitlabPort);

    const hook = await systemHook({
      event_name: 'user_update_for_group',
      group_id: 78,
      group_path: 'ada.analyst',
      group_name: 'ada.analyst',
      user_username: 'ada.analyst',
      group_access: 'Owner',
    });
    expect(hook.status).toBe(202);
    await Promise.all(hook.body.events!.map(settled));

    expect(await memberships()).toContainEqual({ username: 'ada.analyst', role: 'owner' });
  });

  it("writes the members of the event's project path, whatever project id the event names", async () => {
    // Project 1 (tutorial-zhbikes) has ben.bayes as a developer; project 2 does not.
    const hook = await systemHook({
      ...memberEvent('user_add_to_team', 'ben.bayes'),
      project_id: 1,
    });
    await settled(hook.body.events![0]);

    expect(await memberships()).toEqual([
      { username: 'ada.analyst', role: 'owner' },
      { username: 'lineage-sync-bot', role: 'reader' },
    ]);
    expect((await sees('ben.bayes')).project).toBeNull();
  });

  it('takes a repeated delivery once and ignores what changes no membership', async () => {
    const event = memberEvent('user_update_for_team', 'ada.analyst');
    const first = await systemHook(event);
    const again = await systemHook(event);
    expect(again).toEqual({
      status: 202,
      body: { status: 'duplicate', events: first.body.events },
    });

    expect((await systemHook({ event_name: 'project_create', path: 'x' })).body).toEqual({
      status: 'ignored',
      reason: 'project_create changes no membership',
    });
    const elsewhere = { ...event, project_path_with_namespace: 'someone/else' };
    expect((await systemHook(elsewhere)).body.status).toBe('ignored');
    await settled(first.body.events![0]);
  });

  it('refuses a system hook without the secret, of another kind, or naming nothing', async () => {
    const event = memberEvent('user_add_to_team', 'ben.bayes');
    const refusals = [
      await systemHook(event, { 'x-gitlab-token': '' }),
      await systemHook(event, { 'x-gitlab-token': 'not-the-system-hook-secret' }),
      await systemHook(event, { 'x-gitlab-event': 'Push Hook' }),
      await systemHook({ ...event, event_name: undefined }),
      await systemHook({ ...event, project_path_with_namespace: 42 }),
      await systemHook({ event_name: 'user_add_to_group', group_path: '../x/y' }),
    ];
    expect(refusals.map(({ status, body }) => [status, body.error])).toEqual([
      [401, 'X-Gitlab-Token is missing'],
      [401, 'the token does not match'],
      [400, 'only system hooks (X-Gitlab-Event: System Hook) are taken here'],
      [400, 'the event has no event_name'],
      [400, 'the event names no project (project_path_with_namespace)'],
      [400, 'the event names no group (group_path)'],
    ]);
  });

  it('processes a push while GitLab is away and says the members were not synced', async () => {
    const before = await memberships();
    await stopGitLab();

    const event = await push();

    expect(event.status).toBe('done');
    expect(event.message).toContain('project members could not be synced from GitLab');
    expect(event.message).toContain('GitLab is unreachable');
    expect(await memberships()).toEqual(before);
  });

  it('keeps the memberships when the service token is refused', async () => {
    // The default seed has no service user: GitLab answers the unknown token with 401.
    await startGitLab(loadSeed(), gitlabPort);
    const before = await memberships();

    const event = await push();

    expect(event.status).toBe('done');
    expect(event.message).toContain('the service token was refused');
    expect(await memberships()).toEqual(before);
  });
});
