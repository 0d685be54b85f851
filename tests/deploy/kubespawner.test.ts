import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';

import { deployTools, provisionDeployTools, type DeployTools } from '@renku-supergraph/stack';
import {
  reservedEnvironmentNames,
  reservedEnvironmentPrefixes,
} from '../../subgraphs/sessions/src/sessions';

const run = promisify(execFile);

const driver = path.join(__dirname, 'kubespawner_manifest.py');
const defaultImage = 'quay.io/jupyter/scipy-notebook:2025-11-03';
const renkuImage = 'registry.example.org/renku/python:3.12';
const commit = '8a154153c5470e55a7c7c62856a15e6945e1e57d';
const repository = 'https://gitlab.example.org/ada.analyst/tutorial-zhbikes.git';

/** The committed resource classes of the sessions subgraph, as the chart's values give them. */
const resourceClasses = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../subgraphs/sessions/resource-classes.json'), 'utf8'),
);

/** What the Zero to JupyterHub chart configures for `singleuser` with dynamic storage. */
const chartConfig = {
  KubeSpawner: {
    image: defaultImage,
    uid: 1000,
    fs_gid: 100,
    storage_pvc_ensure: true,
    pvc_name_template: 'claim-{user_server}',
    volumes: [
      { name: 'volume-{user_server}', persistentVolumeClaim: { claimName: 'claim-{user_server}' } },
    ],
    volume_mounts: [{ name: 'volume-{user_server}', mountPath: '/home/jovyan' }],
    // The chart's own init container, which ours must come after.
    init_containers: [
      { name: 'block-cloud-metadata', image: 'network-tools:1', command: ['true'] },
    ],
  },
  RenkuKubeSpawner: {
    allowed_images: [renkuImage],
    resource_classes: resourceClasses,
    repository_prefixes: ['https://gitlab.example.org/'],
  },
};

interface Built {
  pod?: any;
  env?: Record<string, string>;
  image?: string;
  defaultUrl?: string;
  storageCapacity?: string;
  pvc?: any;
  refused?: string;
  stage?: 'apply' | 'start';
}

let tools: DeployTools;
let dir: string;
let pythonEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  // Installs JupyterHub and KubeSpawner the first time on a machine; later calls return at once.
  await provisionDeployTools();
  tools = deployTools();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubespawner-'));

  // KubeSpawner loads a cluster configuration when made; this one names an API server on a
  // loopback port nothing listens on, so any call to it would fail instead of going anywhere.
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'none', cluster: { server: 'https://127.0.0.1:9' } }],
      users: [{ name: 'none', user: { token: 'not-a-token' } }],
      contexts: [{ name: 'none', context: { cluster: 'none', user: 'none', namespace: 'hub' } }],
      'current-context': 'none',
    }),
  );
  pythonEnv = { ...process.env, KUBECONFIG: kubeconfig };
  // Never the in-cluster configuration, should the tests run inside a pod.
  delete pythonEnv.KUBERNETES_SERVICE_HOST;
  delete pythonEnv.KUBERNETES_SERVICE_PORT;
}, 900_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the driver with a JSON document on stdin and parses the JSON it prints. */
function python<T>(args: string[], input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.kubespawnerPython, [driver, ...args], { env: pythonEnv });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`driver failed (${code}): ${errors}`));
      resolve(JSON.parse(output) as T);
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** A start of Ada's session of the tutorial with these options. */
function request(options: Record<string, unknown>, config: object = chartConfig) {
  return {
    config,
    user: 'ada.analyst',
    server: 'tutorial-zhbikes-8a154153c5',
    options: { project: 'ada.analyst/tutorial-zhbikes', commit, ...options },
  };
}

/** The pod the hub would create for a start with these options. */
function build(options: Record<string, unknown>, config: object = chartConfig): Promise<Built> {
  return python<Built>([], request(options, config));
}

async function validatePod(pod: unknown, name: string) {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(pod));
  const { stdout } = await run(tools.kubernetesValidate, [
    '--strict',
    '-k',
    '1.27.0',
    '-k',
    '1.37.0',
    file,
  ]);
  return stdout;
}

const byName = (list: { name: string }[] | undefined, name: string) =>
  list?.find((entry) => entry.name === name);

describe('RenkuKubeSpawner', () => {
  it('builds a valid pod (Kubernetes 1.27 and 1.37) from the start options', async () => {
    const built = await build({
      image: renkuImage,
      resourceClass: 'medium',
      repository,
      branch: 'master',
      // Kept as given: KubeSpawner's own `environment` would expand `{username}`.
      environment: { GREETING: 'hello {username}', API_URL: 'https://api.example.org' },
    });
    expect(built.refused).toBeUndefined();
    const { pod } = built;

    // The session's image and the medium class (1 CPU, 2 GB, 10 GB, /lab), requests = limits.
    const [server] = pod.spec.containers;
    expect(server.image).toBe(renkuImage);
    const resources = { cpu: 1, memory: 2 * 1024 ** 3 };
    expect(server.resources).toEqual({ requests: resources, limits: resources });
    expect(built.storageCapacity).toBe('10Gi');
    expect(built.pvc.spec.resources.requests.storage).toBe('10Gi');
    expect(built.defaultUrl).toBe('/lab');

    const env = Object.fromEntries(
      server.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]),
    );
    expect(env).toMatchObject({
      GREETING: 'hello {username}',
      API_URL: 'https://api.example.org',
      JUPYTERHUB_USER: 'ada.analyst',
      JUPYTERHUB_SERVER_NAME: 'tutorial-zhbikes-8a154153c5',
      JUPYTERHUB_DEFAULT_URL: '/lab',
      JUPYTER_IMAGE: renkuImage,
      MEM_LIMIT: String(2 * 1024 ** 3),
    });

    // The checkout runs after the chart's own init container, on the server's volume, as its user.
    expect(pod.spec.initContainers.map((c: { name: string }) => c.name)).toEqual([
      'block-cloud-metadata',
      'checkout',
    ]);
    const checkout = byName(pod.spec.initContainers, 'checkout') as any;
    expect(checkout.image).toBe(renkuImage);
    expect(checkout.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(checkout.volumeMounts).toEqual(server.volumeMounts);
    expect(checkout.volumeMounts[0].mountPath).toBe('/home/jovyan');
    expect(checkout.securityContext).toMatchObject({ runAsUser: 1000 });
    expect(
      Object.fromEntries(
        checkout.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]),
      ),
    ).toMatchObject({
      RENKU_REPOSITORY: repository,
      RENKU_COMMIT: commit,
      RENKU_BRANCH: 'master',
      RENKU_TARGET: '/home/jovyan/tutorial-zhbikes',
    });
    // The caller's values reach only the environment, never the script.
    expect(checkout.command[2]).not.toContain('gitlab.example.org');

    const output = await validatePod(pod, 'session');
    expect(output).not.toMatch(/ERROR|WARN/);
    expect(output.match(/ passed for resource pod\//g)).toHaveLength(2);
  });

  it('starts the configured image and default class when the options name none', async () => {
    const built = await build({});

    expect(built.image).toBe(defaultImage);
    expect(built.pod.spec.containers[0].resources.limits).toEqual({
      cpu: 0.5,
      memory: 1024 ** 3,
    });
    expect(built.storageCapacity).toBe('1Gi');
    // Nothing to check out: only the chart's init container.
    expect(built.pod.spec.initContainers.map((c: { name: string }) => c.name)).toEqual([
      'block-cloud-metadata',
    ]);
  });

  it('checks out into an emptyDir shared with the server when the hub has no storage', async () => {
    const config = {
      KubeSpawner: { image: defaultImage, uid: 1000 },
      RenkuKubeSpawner: { resource_classes: resourceClasses },
    };
    const built = await build({ repository }, config);

    const { spec } = built.pod;
    expect(byName(spec.volumes, 'renku-workspace')).toEqual({
      name: 'renku-workspace',
      emptyDir: {},
    });
    const mount = { name: 'renku-workspace', mountPath: '/home/jovyan' };
    expect(spec.containers[0].volumeMounts).toContainEqual(mount);
    expect(byName(spec.initContainers, 'checkout')).toMatchObject({ volumeMounts: [mount] });
    expect(await validatePod(built.pod, 'ephemeral')).not.toMatch(/ERROR|WARN/);
  });

  it('refuses what the hub must not start with a message the user can act on', async () => {
    const refusals: [Record<string, unknown>, 'apply' | 'start', RegExp][] = [
      [
        { image: 'docker.io/evil/miner:latest' },
        'start',
        /image "docker.io\/evil\/miner:latest" is not available here/,
      ],
      [
        { resourceClass: 'huge' },
        'start',
        /resource class "huge" does not exist \(available: large, medium, small\)/,
      ],
      [
        { environment: { JUPYTERHUB_API_TOKEN: 'stolen' } },
        'apply',
        /JUPYTERHUB_API_TOKEN is set by the session itself/,
      ],
      [
        { environment: { JUPYTER_IMAGE: 'stolen' } },
        'apply',
        /JUPYTER_IMAGE is set by the session itself/,
      ],
      [{ environment: { HOME: 'stolen' } }, 'apply', /HOME is set by the session itself/],
      [{ environment: { 'BAD-NAME': 'stolen' } }, 'apply', /'BAD-NAME' needs a name of letters/],
      [{ gpu: 'yes' }, 'apply', /unknown start options: gpu/],
      [{ repository: 'https://elsewhere.example.com/x.git' }, 'start', /not one this hub clones/],
      [
        { repository: 'https://gitlab.example.org/{username}.git' },
        'start',
        /not one this hub clones/,
      ],
      [{ repository: 'file:///etc' }, 'start', /not one this hub clones/],
      [{ repository, commit: 'not-a-commit' }, 'start', /a commit is needed/],
    ];
    const built = await python<Built[]>(
      [],
      refusals.map(([options]) => request(options)),
    );

    refusals.forEach(([options, stage, message], index) => {
      const answer = built[index];
      expect({ options, pod: answer.pod, stage: answer.stage }).toEqual({
        options,
        pod: undefined,
        stage,
      });
      expect(answer.refused).toMatch(message);
      // Values of variables are never repeated in a refusal.
      expect(answer.refused).not.toMatch(/stolen/);
    });
  });

  it('refuses values that end in a newline, URLs with a user or password, and hosts that only begin like the allowed one (#8)', async () => {
    const refusals: [Record<string, unknown>, RegExp, object?][] = [
      [{ environment: { 'PATH\n': 'x' } }, /'PATH\\n' needs a name of letters/],
      [{ repository, commit: `${commit}\n` }, /a commit is needed/],
      [{ repository, branch: 'master\n' }, /is not a valid branch name/],
      [{ repository: `${repository}\n` }, /not one this hub clones/],
      [{ repository: 'https://ada:secret@gitlab.example.org/x.git' }, /not one this hub clones/],
      [
        { repository: 'https://ada:secret@gitlab.example.org/x.git', commit: 'no' },
        /not one this hub clones/,
      ],
      [{ repository: 'https://gitlab.example.org@evil.example/x.git' }, /not one this hub clones/],
      // An operator's prefix without its final slash still ends at the host.
      [
        { repository: 'https://gitlab.example.org.evil.example/x.git' },
        /not one this hub clones/,
        {
          ...chartConfig,
          RenkuKubeSpawner: {
            ...chartConfig.RenkuKubeSpawner,
            repository_prefixes: ['https://gitlab.example.org'],
          },
        },
      ],
    ];
    const built = await python<Built[]>(
      [],
      refusals.map(([options, , config]) => request(options, config)),
    );

    refusals.forEach(([options, message], index) => {
      expect({ options, pod: built[index].pod }).toEqual({ options, pod: undefined });
      expect(built[index].refused).toMatch(message);
      // A password in a refused URL is not repeated: the message reaches the hub's log.
      expect(built[index].refused).not.toMatch(/secret/);
    });
  });

  it('keeps an environment value as given although Kubernetes expands `$(NAME)` in values (#8)', async () => {
    const built = await build({ environment: { PRICE: 'costs $5, $$6 and $(HOME)' } });

    const server = built.pod.spec.containers[0];
    // Kubernetes reads `$$` as `$` and replaces `$(HOME)`: every `$` goes doubled.
    expect(byName(server.env, 'PRICE')).toEqual({
      name: 'PRICE',
      value: 'costs $$5, $$$$6 and $$(HOME)',
    });
  });

  it('runs with the example hub values, which offer the production classes', async () => {
    const root = path.join(__dirname, '..', '..');
    const read = (file: string) => YAML.parse(fs.readFileSync(path.join(root, file), 'utf8'));
    const hub = read('deploy/jupyterhub/hub-values.yaml');
    const supergraph = read('deploy/helm/examples/production.yaml');

    // The module is mounted where the chart's configuration imports it from, and used.
    expect(hub.hub.extraFiles.renku_kubespawner.mountPath).toBe(
      '/usr/local/etc/jupyterhub/renku_kubespawner.py',
    );
    expect(hub.hub.extraConfig['renku-sessions']).toContain(
      "c.JupyterHub.spawner_class = 'renku_kubespawner.RenkuKubeSpawner'",
    );
    expect(hub.hub.loadRoles['renku-sessions'].scopes).toEqual(['admin:users', 'servers']);
    const spawner = hub.hub.config.RenkuKubeSpawner;
    expect(spawner.resource_classes).toEqual(supergraph.sessions.resourceClasses);
    expect(spawner.repository_prefixes).toEqual([`${supergraph.sessions.gitUrl}/`]);

    const image = `${hub.singleuser.image.name}:${hub.singleuser.image.tag}`;
    const config = {
      KubeSpawner: { ...chartConfig.KubeSpawner, image },
      RenkuKubeSpawner: spawner,
    };
    const built = await python<Built[]>(
      [],
      [
        request(
          { repository: `${supergraph.sessions.gitUrl}/ada.analyst/tutorial-zhbikes.git` },
          config,
        ),
        request({ image: spawner.allowed_images[0] }, config),
      ],
    );
    expect(built.map((answer) => answer.refused)).toEqual([undefined, undefined]);
    expect(built.map((answer) => answer.image)).toEqual([image, spawner.allowed_images[0]]);
    expect(built[0].pod.spec.containers[0].resources.limits).toEqual({
      cpu: 1,
      memory: 2 * 1024 ** 3,
    });
  });

  it('tags Kubernetes events with the step of the start they belong to', async () => {
    const events = [
      { involvedObject: { kind: 'Pod' }, message: 'Successfully assigned hub/jupyter-ada' },
      { involvedObject: { fieldPath: 'spec.initContainers{checkout}' }, message: 'Started' },
      { involvedObject: { fieldPath: 'spec.initContainers{block-cloud-metadata}' } },
      { involvedObject: { fieldPath: 'spec.containers{notebook}' }, message: 'Pulling image' },
    ];

    expect(await python<(string | null)[]>(['steps'], events)).toEqual([
      null,
      'checkout',
      null,
      'server',
    ]);
  });

  it('reserves the environment names the local spawner and the subgraph reserve', async () => {
    const lists = await python<Record<string, { names: string[]; prefixes: string[] }>>(
      ['reserved'],
      null,
    );
    const subgraph = {
      names: [...reservedEnvironmentNames].sort(),
      prefixes: [...reservedEnvironmentPrefixes].sort(),
    };

    expect(lists.kubernetes).toEqual(subgraph);
    expect(lists.local).toEqual(subgraph);
  });
});

describe("the checkout container's script", () => {
  let origin: string;
  let first: string;
  let second: string;
  let script: string;
  let variables: Record<string, string>;

  const git = async (cwd: string, ...args: string[]) =>
    (await run('git', args, { cwd })).stdout.trim();

  beforeAll(async () => {
    // A real repository with two commits, served to git as a local path.
    origin = path.join(dir, 'origin');
    fs.mkdirSync(origin);
    await git(origin, 'init', '--quiet', '--initial-branch=master');
    for (const [file, text] of [
      ['README.md', 'first'],
      ['data.csv', 'a,b\n'],
    ]) {
      fs.writeFileSync(path.join(origin, file), text);
      await git(origin, 'add', file);
      await git(
        origin,
        '-c',
        'user.name=Ada',
        '-c',
        'user.email=ada@example.org',
        'commit',
        '--quiet',
        '-m',
        `add ${file}`,
      );
    }
    second = await git(origin, 'rev-parse', 'HEAD');
    first = await git(origin, 'rev-parse', 'HEAD~1');

    const built = await build({ repository });
    const checkout = byName(built.pod.spec.initContainers, 'checkout') as any;
    script = checkout.command[2];
    variables = Object.fromEntries(
      checkout.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]),
    );
  });

  /** Runs the script as the init container would, with the repository and target moved here. */
  const checkOut = (target: string, overrides: Record<string, string>) =>
    run('sh', ['-c', script], {
      env: {
        PATH: process.env.PATH,
        ...variables,
        RENKU_REPOSITORY: origin,
        RENKU_TARGET: target,
        ...overrides,
      },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('checks out the commit, detached, and resumes the checkout on the next start', async () => {
    const target = path.join(dir, 'work-detached', 'tutorial-zhbikes');

    const done = await checkOut(target, { RENKU_COMMIT: first, RENKU_BRANCH: '' });
    expect(done.code).toBe(0);
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(first);
    expect(await git(target, 'status', '--porcelain')).toBe('');
    expect(fs.existsSync(path.join(target, 'data.csv'))).toBe(false);

    // Work done in the session stays: a second start does not clone again.
    fs.writeFileSync(path.join(target, 'notes.txt'), 'mine');
    const again = await checkOut(target, { RENKU_COMMIT: second, RENKU_BRANCH: '' });
    expect(again.stdout).toMatch(/Resuming the checkout/);
    expect(fs.readFileSync(path.join(target, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('puts the named branch at the commit', async () => {
    const target = path.join(dir, 'work-branch', 'tutorial-zhbikes');

    const done = await checkOut(target, { RENKU_COMMIT: first, RENKU_BRANCH: 'analysis' });
    expect(done.code).toBe(0);
    expect(await git(target, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('analysis');
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(first);
  });

  it('fails naming the commit that is not there and leaves no half checkout', async () => {
    const target = path.join(dir, 'work-missing', 'tutorial-zhbikes');
    const missing = 'f'.repeat(40);

    const failed = await checkOut(target, { RENKU_COMMIT: missing, RENKU_BRANCH: '' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`could not check out commit ${missing}`);
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.existsSync(`${target}.checkout`)).toBe(false);
  });

  it('leaves nothing the next start would resume when the checkout itself fails (#8)', async () => {
    const target = path.join(dir, 'work-bad-branch', 'tutorial-zhbikes');

    // A name the option's pattern admits and git refuses.
    const failed = await checkOut(target, { RENKU_COMMIT: first, RENKU_BRANCH: 'analysis.lock' });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(`could not check out commit ${first}`);
    expect(fs.existsSync(target)).toBe(false);

    // The next start checks out afresh instead of resuming an empty clone.
    const again = await checkOut(target, { RENKU_COMMIT: first, RENKU_BRANCH: '' });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/Resuming/);
    expect(fs.readFileSync(path.join(target, 'README.md'), 'utf8')).toBe('first');
  });

  it('starts over after a start stopped half-way, and never clones over a folder of the user (#8)', async () => {
    const target = path.join(dir, 'work-stopped', 'tutorial-zhbikes');
    // What a pod deleted during the clone leaves: a partial clone beside the target.
    fs.mkdirSync(path.join(`${target}.checkout`, '.git'), { recursive: true });

    const done = await checkOut(target, { RENKU_COMMIT: second, RENKU_BRANCH: '' });
    expect(done.code).toBe(0);
    expect(await git(target, 'rev-parse', 'HEAD')).toBe(second);
    expect(fs.existsSync(`${target}.checkout`)).toBe(false);

    const mine = path.join(dir, 'work-mine', 'tutorial-zhbikes');
    fs.mkdirSync(mine, { recursive: true });
    fs.writeFileSync(path.join(mine, 'notes.txt'), 'mine');
    const refused = await checkOut(mine, { RENKU_COMMIT: second, RENKU_BRANCH: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists and is not a checkout/);
    expect(fs.readdirSync(mine)).toEqual(['notes.txt']);
  });
});
