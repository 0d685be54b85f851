import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { sleep } from '../../stack/src/process';
import {
  provisionJupyterHub,
  startJupyterHub,
  type JupyterHub,
} from '../../stack/src/services/jupyterhub';
import { HubClient, type ProgressEvent } from '../../subgraphs/sessions/src/hub-client';
import { serverName } from '../../subgraphs/sessions/src/server-name';
import { Sessions, type Session } from '../../subgraphs/sessions/src/sessions';

let dataDir: string;
let hub: JupyterHub;
let client: HubClient;
let sessions: Sessions;
let repository: { url: string; first: string; second: string };

beforeAll(async () => {
  await provisionJupyterHub();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessions-hub-'));
  hub = await startJupyterHub({ dataDir: path.join(dataDir, 'hub') });
  client = new HubClient({ apiUrl: hub.apiUrl, token: hub.serviceToken });
  repository = makeRepository(path.join(dataDir, 'repositories', 'ada.analyst', 'zhbikes.git'));
  sessions = new Sessions(client, {
    publicUrl: hub.url,
    repositoryOf: (project) =>
      project === 'ada.analyst/zhbikes'
        ? repository.url
        : `file://${dataDir}/missing/${project}.git`,
  });
});

afterAll(async () => {
  await hub?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the hub client', () => {
  it('starts a named server that turns ready and answers through the proxy', async () => {
    const user = 'hub.pending';
    const name = serverName({ project: 'ada.analyst/zhbikes', commit: repository.first });
    await client.ensureUser(user);

    expect(
      await client.start(user, name, { project: 'ada.analyst/zhbikes', commit: repository.first }),
    ).toBe('pending');
    expect((await client.server(user, name))?.pending).toBe('spawn');

    const events: ProgressEvent[] = [];
    for await (const event of client.progress(user, name)) events.push(event);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ ready: true, progress: 100 });
    expect(events.map((event) => event.message)).toContain('Starting jupyter-server (renku/local)');

    const server = await client.server(user, name);
    expect(server).toMatchObject({ ready: true, pending: null, stopped: false });
    expect(server?.path).toBe(`/user/${user}/${name}/`);

    // The single-user server's own API, through the public proxy: its version is public...
    const version = await fetch(`${hub.url}${server?.path}api`);
    expect(version.status).toBe(200);
    expect(version.headers.get('x-jupyterhub-version')).toMatch(/^6\.1\./);
    expect(await version.json()).toEqual({ version: expect.stringMatching(/^2\./) });
    // ...its contents are not, without the owner's credentials.
    const contents = await fetch(`${hub.url}${server?.path}api/contents`, { redirect: 'manual' });
    expect([302, 403]).toContain(contents.status);

    expect(await client.stop(user, name, true)).not.toBe('absent');
    await until(
      () => client.server(user, name),
      (gone) => gone === undefined,
    );
    expect(await client.servers(user)).toEqual([]);
  });

  it('tells an unknown user by an empty list of servers', async () => {
    expect(await client.servers('nobody.here')).toEqual([]);
    expect(await client.server('nobody.here', 'anything')).toBeUndefined();
  });
});

describe('sessions on the hub', () => {
  it('returns the one session when the same commit is started twice', async () => {
    const user = 'twice.starter';
    const request = { project: 'ada.analyst/zhbikes', commit: repository.first, branch: 'main' };

    const first = await sessions.start(user, request);
    const second = await sessions.start(user, request);

    expect(second.name).toBe(first.name);
    expect(first.state).toBe('STARTING');
    expect(first.url).toBe(`${hub.url}/user/${user}/${first.name}/`);
    const running = await untilState(user, first.name, 'RUNNING');
    expect(running).toMatchObject({
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
      branch: 'main',
      owner: user,
    });
    expect(running.started).toBeInstanceOf(Date);
    expect((await sessions.start(user, request)).state).toBe('RUNNING');
    expect(await sessions.list(user)).toHaveLength(1);
  });

  it('checks out the requested commit in the working folder', async () => {
    const user = 'checkout.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
    });
    await untilState(user, started.name, 'RUNNING');

    const checkout = path.join(dataDir, 'hub', 'sessions', user, started.name, 'zhbikes');
    expect(git(checkout, 'rev-parse', 'HEAD')).toBe(repository.first);
    expect(fs.readFileSync(path.join(checkout, 'README.md'), 'utf8')).toBe('first\n');
  });

  it('ends FAILED with a readable message when the image is unknown', async () => {
    const user = 'image.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.second,
      image: 'no-such/image:1.0',
    });

    const failed = await untilState(user, started.name, 'FAILED');
    expect(failed.message).toBe(
      'The session could not start: image "no-such/image:1.0" is not available here (available: renku/local)',
    );
    expect(failed.url).toBeNull();
  });

  it('ends FAILED naming the repository when the commit cannot be reached', async () => {
    const user = 'unreachable.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/elsewhere',
      commit: repository.first,
    });

    const failed = await untilState(user, started.name, 'FAILED');
    expect(failed.message).toContain(`could not check out commit ${repository.first} of file://`);
    expect(failed.message).toContain('elsewhere.git');

    // The reason is in the start's progress too, where the hub itself shows it.
    const events: ProgressEvent[] = [];
    for await (const event of client.progress(user, started.name)) events.push(event);
    expect(events).toEqual([
      expect.objectContaining({
        failed: true,
        message: expect.stringContaining('could not check out'),
      }),
    ]);
  });

  it('starts a failed session again when asked to', async () => {
    const user = 'retry.user';
    const request = { project: 'ada.analyst/zhbikes', commit: repository.second, image: 'missing' };
    const failed = await untilState(user, (await sessions.start(user, request)).name, 'FAILED');

    const again = await sessions.start(user, { ...request, image: 'renku/local' });
    expect(again.name).toBe(failed.name);
    expect(['STARTING', 'RUNNING']).toContain(again.state);
    expect((await untilState(user, again.name, 'RUNNING')).image).toBe('renku/local');
  });

  it('shows a session whose server stopped as HIBERNATED and resumes it', async () => {
    const user = 'sleepy.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.second,
    });
    await untilState(user, started.name, 'RUNNING');

    await client.stop(user, started.name, false);
    const hibernated = await untilState(user, started.name, 'HIBERNATED');
    expect(hibernated.url).toBeNull();

    expect(
      (await sessions.start(user, { project: 'ada.analyst/zhbikes', commit: repository.second }))
        .name,
    ).toBe(started.name);
    await untilState(user, started.name, 'RUNNING');
  });

  it('stops and removes a session with its working folder', async () => {
    const user = 'stopping.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
    });
    await untilState(user, started.name, 'RUNNING');

    expect(await sessions.stop(user, started.name, false)).toBe(true);
    await until(
      () => sessions.get(user, started.name),
      (session) => session === undefined,
    );
    expect(fs.existsSync(path.join(dataDir, 'hub', 'sessions', user, started.name))).toBe(false);
    expect(await sessions.stop(user, started.name, false)).toBe(false);
  });

  it('interrupts a starting session only when forced', async () => {
    const user = 'impatient.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.second,
    });
    expect(started.state).toBe('STARTING');

    await expect(sessions.stop(user, started.name, false)).rejects.toThrow('is still starting');
    expect(await sessions.stop(user, started.name, true)).toBe(true);
    await until(
      () => sessions.get(user, started.name),
      (session) => session === undefined,
    );
  });

  it('filters sessions by project, branch and abbreviated commit', async () => {
    const user = 'filter.user';
    const a = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
      branch: 'main',
    });
    const b = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.second,
      branch: 'dev',
    });

    const names = async (filter: Parameters<Sessions['list']>[1]) =>
      (await sessions.list(user, filter)).map((session) => session.name).sort();
    expect(await names({})).toEqual([a.name, b.name].sort());
    expect(await names({ branch: 'dev' })).toEqual([b.name]);
    expect(await names({ commit: repository.first.slice(0, 8) })).toEqual([a.name]);
    expect(await names({ project: 'ada.analyst/other' })).toEqual([]);
  });

  it('refuses a project path or commit id that cannot be right', async () => {
    await expect(
      sessions.start('odd.user', { project: 'no-namespace', commit: repository.first }),
    ).rejects.toThrow('project must be a path like namespace/name');
    await expect(sessions.start('odd.user', { project: 'a/b', commit: 'main' })).rejects.toThrow(
      'commit must be a commit id',
    );
  });
});

describe('a hub that is not running', () => {
  it('fails with HubUnreachable rather than an empty answer', async () => {
    const down = new HubClient({ apiUrl: 'http://127.0.0.1:9/hub/api', token: 'unused' });
    await expect(down.servers('ada.analyst')).rejects.toThrow('JupyterHub is not reachable');
  });
});

/** A git repository with two commits on main, reached through a file:// URL. */
function makeRepository(folder: string): { url: string; first: string; second: string } {
  fs.mkdirSync(folder, { recursive: true });
  git(folder, 'init', '--quiet', '--initial-branch=main');
  const commit = (text: string) => {
    fs.writeFileSync(path.join(folder, 'README.md'), `${text}\n`);
    git(folder, 'add', 'README.md');
    git(
      folder,
      '-c',
      'user.name=Test',
      '-c',
      'user.email=test@example.org',
      'commit',
      '--quiet',
      '-m',
      text,
    );
    return git(folder, 'rev-parse', 'HEAD');
  };
  const first = commit('first');
  const second = commit('second');
  return { url: `file://${folder}`, first, second };
}

function git(folder: string, ...args: string[]): string {
  return execFileSync('git', ['-C', folder, ...args], { encoding: 'utf8' }).trim();
}

async function untilState(user: string, name: string, state: Session['state']): Promise<Session> {
  const session = await until(
    () => sessions.get(user, name),
    (found) => found?.state === state || found?.state === 'FAILED',
  );
  expect(session).toMatchObject({ state, name });
  return session as Session;
}

/** Polls until `done` holds; the test's own timeout bounds the wait. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await sleep(250);
  }
}
