import { createLogger, type Running } from '@renku-supergraph/kit';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';

import { sleep } from '../../stack/src/process';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import type { WebhookConfig } from '../../subgraphs/lineage/src/config';
import { activateLineage, startLineageSubgraph } from '../../subgraphs/lineage/src/index';
import { sha, zeroXDocument } from './documents';

const log = createLogger('lineage-test', (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent');

let dataDir: string;
let boltPort: number;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let driver: Driver;
let running: Running;

const webhooks: Partial<WebhookConfig> = {
  pollMs: 200,
  staleAfterMs: 3_000,
  retryBaseMs: 200,
  maxAttempts: 5,
};

function startSubgraph(overrides: Partial<WebhookConfig> = {}) {
  return startLineageSubgraph(
    {
      port: 0,
      host: '127.0.0.1',
      neo4j: { uri: database.url },
      webhooks: { ...webhooks, ...overrides },
    },
    log,
  );
}

beforeAll(async () => {
  await provisionNeo4j();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'lineage-webhooks-'));
  database = await startNeo4j({ dataDir });
  boltPort = database.boltPort;
  driver = neo4j.driver(database.url);
  running = await startSubgraph();
});

afterAll(async () => {
  await running?.stop();
  await driver?.close();
  await database?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

let projects = 0;
/** A fresh, activated, public project per test; returns its path and webhook secret. */
async function newProject(): Promise<{ projectPath: string; secret: string }> {
  projects += 1;
  const projectPath = `hooks/project-${projects}-${Date.now()}`;
  const secret = await activateLineage(driver, projectPath);
  await query('MATCH (p:Project {path: $projectPath}) SET p.visibility = $public', {
    projectPath,
    public: 'public',
  });
  return { projectPath, secret };
}

async function query(cypher: string, params: Record<string, unknown> = {}) {
  const session = driver.session();
  try {
    const result = await session.run(cypher, params);
    return result.records.map((record) => record.toObject());
  } finally {
    await session.close();
  }
}

function baseUrl(server: Running = running): string {
  return server.url.replace(/\/graphql$/, '');
}

function pushEvent(projectPath: string, after: string) {
  return {
    object_kind: 'push',
    before: '0'.repeat(40),
    after,
    ref: 'refs/heads/master',
    project: {
      id: 42,
      path_with_namespace: projectPath,
      default_branch: 'master',
      git_http_url: `http://127.0.0.1:1/${projectPath}.git`,
    },
  };
}

async function push(
  projectPath: string,
  after: string,
  headers: Record<string, string>,
  server: Running = running,
) {
  const response = await fetch(`${baseUrl(server)}/webhooks/gitlab`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', ...headers },
    body: JSON.stringify(pushEvent(projectPath, after)),
  });
  return { status: response.status, body: await response.json() };
}

async function postExport(
  projectPath: string,
  commit: string,
  secret: string,
  document: unknown,
  server: Running = running,
) {
  const url = `${baseUrl(server)}/webhooks/export?project=${encodeURIComponent(projectPath)}&commit=${commit}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/ld+json', 'x-gitlab-token': secret },
    body: JSON.stringify(document),
  });
  return { status: response.status, body: await response.json() };
}

/** One run per commit: `python step-<n>.py` makes out-<n>.txt from in.txt. */
function exportOf(n: number) {
  return zeroXDocument(
    [
      {
        commit: sha(`run-${n}`),
        command: `python step-${n}.py`,
        used: ['in.txt'],
        generated: [`out-${n}.txt`],
        at: `2021-01-01T00:00:${String(n % 60).padStart(2, '0')}`,
      },
    ],
    [{ commit: sha('input'), path: 'in.txt' }],
  );
}

async function events(projectPath: string) {
  return query(
    `MATCH (e:IngestEvent {projectPath: $projectPath})
     RETURN e.commit AS commit, e.status AS status, e.message AS message,
            e.attempts AS attempts, e.completions AS completions`,
    { projectPath },
  ).then((rows) =>
    rows.map((row) => ({
      commit: row.commit as string,
      status: row.status as string,
      message: row.message as string | null,
      attempts: neo4j.integer.toNumber(row.attempts),
      completions: neo4j.integer.toNumber(row.completions),
    })),
  );
}

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 90_000) {
  const deadline = Date.now() + ms;
  let value = await probe().catch(() => undefined);
  while (value === undefined || !done(value)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting; last: ${JSON.stringify(value)}`);
    await sleep(250);
    value = await probe().catch(() => undefined);
  }
  return value;
}

async function graphql(queryText: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: queryText, variables }),
  });
  return response.json();
}

describe('the GitLab push webhook', () => {
  it('answers 401 to a missing or wrong token, and to a project not activated', async () => {
    const { projectPath, secret } = await newProject();
    const other = await newProject();
    const after = sha('unauthorised');

    expect((await push(projectPath, after, {})).status).toBe(401);
    expect((await push(projectPath, after, { 'x-gitlab-token': 'guess' })).status).toBe(401);
    expect((await push(projectPath, after, { 'x-gitlab-token': `${secret}x` })).status).toBe(401);
    expect((await push(projectPath, after, { 'x-gitlab-token': other.secret })).status).toBe(401);
    expect((await push('nobody/never-activated', after, { 'x-gitlab-token': secret })).status).toBe(
      401,
    );
    expect(await events(projectPath)).toEqual([]);
  });

  it('takes other kinds of event, authenticated, and ignores them', async () => {
    const { projectPath, secret } = await newProject();
    const tagPush = JSON.stringify(pushEvent(projectPath, sha('tag')));
    const send = (token: string) =>
      fetch(`${baseUrl()}/webhooks/gitlab`, {
        method: 'POST',
        headers: { 'x-gitlab-token': token, 'x-gitlab-event': 'Tag Push Hook' },
        body: tagPush,
      });

    const taken = await send(secret);
    expect(taken.status).toBe(202);
    expect(await taken.json()).toEqual({
      status: 'ignored',
      reason: 'only push events (X-Gitlab-Event: Push Hook) make lineage',
    });
    expect((await send('not-the-secret')).status).toBe(401);
    expect(await events(projectPath)).toEqual([]);
  });

  it('answers 400 to deliveries that are not events or lack project or commit', async () => {
    const { projectPath, secret } = await newProject();
    const url = `${baseUrl()}/webhooks/gitlab`;
    const send = (body: string, event = 'Push Hook') =>
      fetch(url, {
        method: 'POST',
        headers: { 'x-gitlab-token': secret, 'x-gitlab-event': event },
        body,
      }).then((response) => response.status);
    const valid = pushEvent(projectPath, sha('malformed'));

    expect(await send('{not json')).toBe(400);
    expect(await send('"a string"')).toBe(400);
    expect(await send(JSON.stringify(valid), '')).toBe(400);
    expect(await send(JSON.stringify({ ...valid, project: undefined }), 'Tag Push Hook')).toBe(400);
    expect(await send(JSON.stringify({ ...valid, after: undefined }))).toBe(400);
    expect(await send(JSON.stringify({ ...valid, after: 'HEAD' }))).toBe(400);
    expect(await send(JSON.stringify({ ...valid, project: undefined }))).toBe(400);
    expect(
      await send(JSON.stringify({ ...valid, project: { path_with_namespace: projectPath } })),
    ).toBe(400);
    expect(await events(projectPath)).toEqual([]);
  });

  it('stores the event before it answers 202', async () => {
    const { projectPath, secret } = await newProject();
    const after = sha('stored');
    const { status, body } = await push(projectPath, after, { 'x-gitlab-token': secret });
    expect(status).toBe(202);
    expect(body).toMatchObject({ status: 'accepted', event: expect.any(String) });
    // Asked right after the answer, with no waiting: the 202 came after the write.
    const [stored] = await query('MATCH (e:IngestEvent {id: $id}) RETURN e.commit AS commit', {
      id: body.event,
    });
    expect(stored).toEqual({ commit: after });
  });

  it('ignores pushes to other branches than the default one, once authenticated', async () => {
    const { projectPath, secret } = await newProject();
    const toBranch = (token: string) =>
      fetch(`${baseUrl()}/webhooks/gitlab`, {
        method: 'POST',
        headers: { 'x-gitlab-token': token, 'x-gitlab-event': 'Push Hook' },
        body: JSON.stringify({
          ...pushEvent(projectPath, sha('branch')),
          ref: 'refs/heads/feature',
        }),
      });
    expect((await toBranch('wrong')).status).toBe(401);
    const response = await toBranch(secret);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: 'ignored' });
    expect(await events(projectPath)).toEqual([]);
  });

  it('processes a delivery repeated with the same Idempotency-Key or commit once', async () => {
    const { projectPath, secret } = await newProject();
    const key = 'a1b2c3d4-0000-4000-8000-000000000001';
    const first = await push(projectPath, sha('once'), {
      'x-gitlab-token': secret,
      'idempotency-key': key,
    });
    // GitLab's retry of the same delivery, and a repeated push of the same commit.
    const sameKey = await push(projectPath, sha('once'), {
      'x-gitlab-token': secret,
      'idempotency-key': key,
    });
    const sameCommit = await push(projectPath, sha('once'), { 'x-gitlab-token': secret });
    const [atOnceA, atOnceB] = await Promise.all([
      push(projectPath, sha('twice'), { 'x-gitlab-token': secret }),
      push(projectPath, sha('twice'), { 'x-gitlab-token': secret }),
    ]);

    expect(first.body.status).toBe('accepted');
    expect(sameKey.body).toEqual({ status: 'duplicate', event: first.body.event });
    expect(sameCommit.body).toEqual({ status: 'duplicate', event: first.body.event });
    expect([atOnceA.body.status, atOnceB.body.status].sort()).toEqual(['accepted', 'duplicate']);
    expect(atOnceA.body.event).toBe(atOnceB.body.event);

    const done = await eventually(
      () => events(projectPath),
      (rows) => rows.length === 2 && rows.every((row) => row.status === 'done'),
    );
    expect(done.map((row) => row.completions)).toEqual([1, 1]);
    // This subgraph has no renku CLI: a push is recorded, its lineage comes from CI.
    expect(done[0].message).toMatch(/no renku CLI here/);
  });
});

describe('exports posted by CI', () => {
  it('ingests the export and reports progress in lineageStatus', async () => {
    const { projectPath, secret } = await newProject();
    const statusQuery = `query ($p: String!) {
      lineageStatus(projectPath: $p) {
        activated progress { done total percentage } details { status message } }
    }`;
    const before = await graphql(statusQuery, { p: projectPath });
    expect(before.data.lineageStatus).toEqual({
      activated: true,
      progress: { done: 0, total: 0, percentage: 100 },
      details: null,
    });

    const { status } = await postExport(projectPath, sha('run-1'), secret, exportOf(1));
    expect(status).toBe(202);
    const after = await eventually(
      () => graphql(statusQuery, { p: projectPath }),
      (body) => body.data?.lineageStatus.details?.status === 'done',
    );
    expect(after.data.lineageStatus).toEqual({
      activated: true,
      progress: { done: 1, total: 1, percentage: 100 },
      details: {
        status: 'done',
        message: `ingested commit ${sha('run-1')}: 1 runs, 2 file versions, 0 datasets`,
      },
    });
    const lineage = await graphql(
      `{ lineage(projectPath: "${projectPath}", filePath: "out-1.txt") { nodes { label } } }`,
    );
    expect(lineage.data.lineage.nodes).toContainEqual({ label: 'python step-1.py' });
  });

  it('fails a broken export at once with a readable message and writes nothing', async () => {
    const { projectPath, secret } = await newProject();
    const broken = {
      '@context': { prov: 'http://www.w3.org/ns/prov#' },
      '@id': '/x#',
      '@type': 'prov:Activity',
      'prov:startedAtTime': 'soon',
    };
    // Typed as a run so that ingestion reads it, then refuses its start time.
    (broken as Record<string, unknown>)['@type'] = [
      'prov:Activity',
      'http://purl.org/wf4ever/wfprov#ProcessRun',
    ];
    expect((await postExport(projectPath, sha('broken'), secret, broken)).status).toBe(202);
    const [event] = await eventually(
      () => events(projectPath),
      (rows) => rows[0]?.status === 'failed',
    );
    expect(event).toMatchObject({ attempts: 1, completions: 0 });
    expect(event.message).toMatch(
      /failed after 1 attempt\(s\): invalid renku metadata: node "\/x#"/,
    );
    expect(
      await query('MATCH (r:Run {projectPath: $projectPath}) RETURN r', { projectPath }),
    ).toEqual([]);
  });

  it('answers 401 without the token and 413 to an export over the limit', async () => {
    const { projectPath, secret } = await newProject();
    expect((await postExport(projectPath, sha('x'), '', exportOf(2))).status).toBe(401);
    const small = await startSubgraph({ worker: false, maxExportBytes: 1024 });
    try {
      const big = { '@context': {}, padding: 'x'.repeat(4096) };
      expect((await postExport(projectPath, sha('big'), secret, big, small)).status).toBe(413);
    } finally {
      await small.stop();
    }
  });
});

describe('durability', () => {
  it('keeps accepted events over a restart of the subgraph, and takes over stale ones', async () => {
    const { projectPath, secret } = await newProject();
    await running.stop();
    // A subgraph whose worker is off, then gone: what it accepted waits in Neo4j.
    const receiver = await startSubgraph({ worker: false });
    for (let n = 10; n < 15; n += 1) {
      expect(
        (await postExport(projectPath, sha(`run-${n}`), secret, exportOf(n), receiver)).status,
      ).toBe(202);
    }
    await receiver.stop();
    // One of them as a worker that died mid-way would have left it.
    await query(
      `MATCH (e:IngestEvent {projectPath: $projectPath, commit: $commit})
       SET e.status = 'processing', e.claim = 'dead-worker', e.claimedAt = '2000-01-01T00:00:00.000Z'`,
      { projectPath, commit: sha('run-10') },
    );
    expect((await events(projectPath)).map((row) => row.status).sort()).toEqual([
      'new',
      'new',
      'new',
      'new',
      'processing',
    ]);

    running = await startSubgraph();
    const done = await eventually(
      () => events(projectPath),
      (rows) => rows.every((row) => row.status === 'done'),
    );
    expect(done.map((row) => row.completions)).toEqual([1, 1, 1, 1, 1]);
  });

  it('processes each of a burst of 50 exports exactly once across a Neo4j restart', async () => {
    const { projectPath, secret } = await newProject();
    const accepted = new Set<string>();
    let refused = 0;

    // Like GitLab: a 503 or no answer at all is tried again, until a 202.
    async function deliver(n: number) {
      const commit = sha(`run-${100 + n}`);
      for (;;) {
        const answer = await postExport(projectPath, commit, secret, exportOf(100 + n)).catch(
          () => ({ status: 0 }),
        );
        if (answer.status === 202) return accepted.add(commit);
        expect([0, 503]).toContain(answer.status);
        refused += 1;
        await sleep(300);
      }
    }

    const firstHalf = Promise.all(Array.from({ length: 25 }, (_, n) => deliver(n)));
    await firstHalf;
    await database.stop();
    const secondHalf = Promise.all(Array.from({ length: 25 }, (_, n) => deliver(25 + n)));
    await sleep(2_000);
    database = await startNeo4j({ dataDir, boltPort });
    await secondHalf;

    expect(accepted.size).toBe(50);
    // Neo4j was away for a while: some deliveries were refused and sent again.
    expect(refused).toBeGreaterThan(0);
    const done = await eventually(
      () => events(projectPath),
      (rows) => rows.length === 50 && rows.every((row) => row.status === 'done'),
      180_000,
    );
    expect(new Set(done.map((row) => row.commit))).toEqual(accepted);
    expect(done.every((row) => row.completions === 1)).toBe(true);
    const [{ runs }] = await query(
      'MATCH (r:Run {projectPath: $projectPath}) RETURN count(r) AS runs',
      { projectPath },
    );
    expect(neo4j.integer.toNumber(runs)).toBe(50);
  });
});

describe('activateLineage', () => {
  it('answers UNAUTHENTICATED to an anonymous caller', async () => {
    const body = await graphql('mutation { activateLineage(projectPath: "a/b") }');
    expect(body.errors[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      subgraph: 'lineage',
    });
  });
});
