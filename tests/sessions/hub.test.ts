import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { sleep } from '../../stack/src/process';
import {
  provisionJupyterHub,
  startJupyterHub,
  type JupyterHub,
} from '../../stack/src/services/jupyterhub';
import { HubClient, type ProgressEvent } from '../../subgraphs/sessions/src/hub-client';
import { readResourceClasses } from '../../subgraphs/sessions/src/resource-classes';
import { serverName } from '../../subgraphs/sessions/src/server-name';
import { SessionFiles } from '../../subgraphs/sessions/src/session-files';
import { Sessions, type Session } from '../../subgraphs/sessions/src/sessions';

let dataDir: string;
let hub: JupyterHub;
let client: HubClient;
let sessions: Sessions;
let repository: { url: string; first: string; second: string };
/** Accepts git connections and never answers them: a clone that hangs in its checkout step. */
let silentGit: net.Server;
const heldSockets = new Set<net.Socket>();

/** The committed classes plus one too small for a server to start in. */
const resourceClasses = {
  default: 'small',
  classes: [
    { name: 'small', cpu: 0.5, memoryGb: 1, storageGb: 1, defaultUrl: '/lab' },
    { name: 'medium', cpu: 1, memoryGb: 2, storageGb: 10, defaultUrl: '/lab' },
    { name: 'tiny', cpu: 0.1, memoryGb: 0.05, storageGb: 1, defaultUrl: '/lab' },
  ],
};

beforeAll(async () => {
  await provisionJupyterHub();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessions-hub-'));
  const classesFile = path.join(dataDir, 'resource-classes.json');
  fs.writeFileSync(classesFile, JSON.stringify(resourceClasses));
  silentGit = net.createServer((socket) => {
    heldSockets.add(socket);
    socket.on('close', () => heldSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silentGit.listen(0, '127.0.0.1', resolve));

  hub = await startJupyterHub({
    dataDir: path.join(dataDir, 'hub'),
    resourceClassesFile: classesFile,
  });
  client = new HubClient({ apiUrl: hub.apiUrl, token: hub.serviceToken });
  repository = makeRepository(path.join(dataDir, 'repositories', 'ada.analyst', 'zhbikes.git'));
  const silentPort = (silentGit.address() as net.AddressInfo).port;
  sessions = new Sessions(client, {
    publicUrl: hub.url,
    repositoryOf: (project) => {
      if (project === 'ada.analyst/zhbikes') return repository.url;
      if (project === 'ada.analyst/slow') return `git://127.0.0.1:${silentPort}/slow.git`;
      return `file://${dataDir}/missing/${project}.git`;
    },
    resourceClasses: readResourceClasses(classesFile),
    files: new SessionFiles(hub.sessionsDir),
  });
});

afterAll(async () => {
  await hub?.stop();
  for (const socket of heldSockets) socket.destroy();
  silentGit?.close();
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
    expect(events.map((event) => event.message)).toContain(
      'Starting jupyter-server with JupyterLab (renku/local)',
    );

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

describe('resource classes, environment, status and logs', () => {
  it('runs a session within the memory of its class and tells the server so', async () => {
    const user = 'limits.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
      resourceClass: 'medium',
    });
    expect(started.resourceClass).toBe('medium');
    await untilState(user, started.name, 'RUNNING');

    const server = serverProcess(user, started.name);
    expect(server.addressSpaceLimit).toBe(String(2 * 1024 ** 3));
    expect(server.environment.MEM_LIMIT).toBe(String(2 * 1024 ** 3));
    expect(server.environment.CPU_LIMIT).toBe('1.0');
    await sessions.stop(user, started.name, true);
  });

  it('starts with the default class when none is named', async () => {
    const user = 'default.class.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.second,
    });
    expect(started.resourceClass).toBe('small');
    await untilState(user, started.name, 'RUNNING');
    expect(serverProcess(user, started.name).addressSpaceLimit).toBe(String(1024 ** 3));
    await sessions.stop(user, started.name, true);
  });

  it('refuses a resource class that is not configured', async () => {
    await expect(
      sessions.start('odd.user', {
        project: 'ada.analyst/zhbikes',
        commit: repository.first,
        resourceClass: 'huge',
      }),
    ).rejects.toThrow('resource class huge does not exist (available: small, medium, tiny)');
  });

  it('restarts a running session with a changed class and keeps its working folder', async () => {
    const user = 'resize.user';
    const request = { project: 'ada.analyst/zhbikes', commit: repository.first };
    const small = await sessions.start(user, { ...request, resourceClass: 'small' });
    await untilState(user, small.name, 'RUNNING');
    const folder = path.join(hub.sessionsDir, user, small.name);
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'kept\n');
    const before = serverProcess(user, small.name).pid;

    // The same class again changes nothing.
    expect((await sessions.start(user, { ...request, resourceClass: 'small' })).state).toBe(
      'RUNNING',
    );
    expect(serverProcess(user, small.name).pid).toBe(before);

    const medium = await sessions.start(user, { ...request, resourceClass: 'medium' });
    expect(medium.name).toBe(small.name);
    expect(medium.resourceClass).toBe('medium');
    await untilState(user, small.name, 'RUNNING');
    const after = serverProcess(user, small.name);
    expect(after.pid).not.toBe(before);
    expect(after.addressSpaceLimit).toBe(String(2 * 1024 ** 3));
    expect(fs.readFileSync(path.join(folder, 'notes.txt'), 'utf8')).toBe('kept\n');
    expect(await sessions.list(user)).toHaveLength(1);
    await sessions.stop(user, small.name, true);
  });

  it('sets the environment variables it was given and keeps their values out of sight', async () => {
    const user = 'env.user';
    const secret = `value-${process.pid}-never-logged`;
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.second,
      environment: [
        { name: 'API_KEY', value: secret },
        { name: 'GREETING', value: 'grüezi, with spaces and = signs' },
      ],
    });
    expect(started.environment).toEqual(['API_KEY', 'GREETING']);
    await untilState(user, started.name, 'RUNNING');

    const server = serverProcess(user, started.name);
    expect(server.environment.API_KEY).toBe(secret);
    expect(server.environment.GREETING).toBe('grüezi, with spaces and = signs');
    expect(JSON.stringify(await sessions.get(user, started.name))).not.toContain(secret);
    expect(fs.readFileSync(path.join(dataDir, 'hub', 'jupyterhub.log'), 'utf8')).not.toContain(
      secret,
    );
    await sessions.stop(user, started.name, true);
  });

  it.each([
    [[{ name: '1ST', value: 'x' }], 'environment variable names are letters, digits and _'],
    [[{ name: 'JUPYTERHUB_API_TOKEN', value: 'x' }], 'JUPYTERHUB_API_TOKEN is set by the session'],
    [[{ name: 'HOME', value: '/' }], 'HOME is set by the session itself'],
    [
      [
        { name: 'A', value: 'x' },
        { name: 'A', value: 'y' },
      ],
      'environment variable A is given twice',
    ],
  ])('refuses the environment %j', async (environment, problem) => {
    const start = sessions.start('odd.user', {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
      environment,
    });
    await expect(start).rejects.toThrow(problem);
    await expect(start).rejects.not.toThrow('value');
  });

  it('shows the step in progress while starting', async () => {
    const user = 'watcher.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/slow',
      commit: repository.first,
    });

    const cloning = await until(
      () => sessions.get(user, started.name),
      (session) => session?.steps.some((step) => step.step === 'checkout') ?? false,
    );
    expect(cloning).toMatchObject({
      state: 'STARTING',
      message: expect.stringMatching(/^Cloning git:\/\/127\.0\.0\.1:\d+\/slow\.git$/),
    });
    expect(cloning?.steps).toEqual([
      { step: 'requested', message: 'Server requested', state: 'DONE' },
      { step: 'checkout', message: cloning?.message, state: 'RUNNING' },
      { step: 'server', message: 'Starting the server', state: 'WAITING' },
      { step: 'connect', message: 'Waiting for the server to answer', state: 'WAITING' },
    ]);

    expect(await sessions.stop(user, started.name, true)).toBe(true);
  });

  it('fails readably when the commit is not in the repository', async () => {
    const user = 'wrong.commit.user';
    const missing = '0123456789abcdef0123456789abcdef01234567';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: missing,
      branch: 'main',
    });

    const failed = await untilState(user, started.name, 'FAILED');
    expect(failed.message).toBe(
      `The session could not start: could not check out commit ${missing} of ${repository.url}: ` +
        `the commit is not in the repository (branch main is at ${repository.second.slice(0, 12)})`,
    );
    expect(failed.steps).toEqual([
      { step: 'requested', message: 'The hub accepted the start', state: 'DONE' },
      {
        step: 'checkout',
        message: expect.stringContaining('could not check out'),
        state: 'FAILED',
      },
    ]);
  });

  it('fails a server that cannot start within the memory of its class', async () => {
    const user = 'tiny.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
      resourceClass: 'tiny',
    });

    const failed = await untilState(user, started.name, 'FAILED');
    expect(failed.message).toBe(
      'The session could not start: the server ended with exit code 1; ' +
        'if it ran out of memory, a resource class above 0.05 GB helps',
    );
    expect(failed.steps.map((step) => [step.step, step.state])).toEqual([
      ['requested', 'DONE'],
      ['checkout', 'DONE'],
      ['server', 'DONE'],
      ['connect', 'FAILED'],
    ]);
    const logs = await sessions.logs(user, started.name, 5000);
    // Where the limit strikes varies: CPython says MemoryError, or SystemError when a C
    // extension's allocation fails during an import without setting one.
    expect(logs?.lines.join('\n')).toMatch(
      /MemoryError|SystemError: error return without exception set/,
    );
  });

  it('gives the last lines of the server log to its owner only', async () => {
    const user = 'log.reader';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
    });
    await untilState(user, started.name, 'RUNNING');

    const all = await sessions.logs(user, started.name, 5000);
    expect(all?.truncated).toBe(false);
    expect(all?.lines[0]).toMatch(/^\[session \S+\] Cloning file:\/\//);
    expect(all?.lines).toContainEqual(expect.stringContaining('Jupyter Server'));

    const last = await sessions.logs(user, started.name, 2);
    expect(last).toEqual({ lines: all?.lines.slice(-2), truncated: true });

    expect(await sessions.logs('someone.else', started.name, 10)).toBeUndefined();
    for (const lines of [0, 5001, 2.5]) {
      await expect(sessions.logs(user, started.name, lines)).rejects.toThrow(
        'lines must be a whole number from 1 to 5000',
      );
    }
    await sessions.stop(user, started.name, true);
  });
});

describe('a hub that is not running', () => {
  it('fails with HubUnreachable rather than an empty answer', async () => {
    const down = new HubClient({ apiUrl: 'http://127.0.0.1:9/hub/api', token: 'unused' });
    await expect(down.servers('ada.analyst')).rejects.toThrow('JupyterHub is not reachable');
  });
});

describe('a restarted hub', () => {
  it('still tells why a session failed, from the session folder', async () => {
    const user = 'restart.user';
    const started = await sessions.start(user, {
      project: 'ada.analyst/zhbikes',
      commit: repository.first,
      image: 'gone/image:1',
    });
    const failed = await untilState(user, started.name, 'FAILED');

    const ports = {
      port: Number(new URL(hub.url).port),
      hubPort: Number(new URL(hub.apiUrl).port),
    };
    await hub.stop();
    hub = await startJupyterHub({
      ...ports,
      dataDir: path.join(dataDir, 'hub'),
      resourceClassesFile: path.join(dataDir, 'resource-classes.json'),
    });

    // The hub itself has forgotten...
    expect(await client.failure(user, started.name)).toBeUndefined();
    // ...the session folder has not.
    expect(await sessions.get(user, started.name)).toMatchObject({
      state: 'FAILED',
      message: failed.message,
    });
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

interface ServerProcess {
  pid: number;
  environment: Record<string, string>;
  /** The soft `Max address space` of /proc/<pid>/limits, in bytes. */
  addressSpaceLimit: string;
}

/** The single-user server process of a session, found through the spawner's pid files. */
function serverProcess(user: string, name: string): ServerProcess {
  const runDir = path.join(dataDir, 'hub', 'run');
  for (const file of fs.readdirSync(runDir)) {
    const pid = Number(fs.readFileSync(path.join(runDir, file), 'utf8'));
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue;
    }
    const environment = Object.fromEntries(
      environ
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
    if (environment.JUPYTERHUB_USER !== user || environment.JUPYTERHUB_SERVER_NAME !== name) {
      continue;
    }
    const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
    const addressSpaceLimit = /^Max address space\s+(\S+)/m.exec(limits)?.[1] ?? 'unknown';
    return { pid, environment, addressSpaceLimit };
  }
  throw new Error(`no server process of ${user}/${name}`);
}
