import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';

import {
  deployTools,
  provisionDeployTools,
  routerVersion,
  type DeployTools,
} from '@renku-supergraph/stack';
import { readIdentityConfig } from '../../subgraphs/identity/src/config';
import { readLineageConfig } from '../../subgraphs/lineage/src/config';
import { readProjectsConfig } from '../../subgraphs/projects/src/config';
import { readSessionsConfig } from '../../subgraphs/sessions/src/config';
import { readGatewayConfig } from '../../supergraph/src/config';
import { readGitLabConfig } from '../../mesh/src/config';

const run = promisify(execFile);

const root = path.resolve(__dirname, '..', '..');
const chart = path.join(root, 'deploy', 'helm', 'renku-supergraph');
const productionValues = path.join(root, 'deploy', 'helm', 'examples', 'production.yaml');
const supergraphFile = path.join(root, 'supergraph', 'supergraph.graphql');
/** The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas. */
const kubernetesVersions = ['1.27.0', '1.37.0'];
const subgraphs = ['identity', 'projects', 'lineage', 'sessions', 'gitlab'];

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: Record<string, string>;
}

let tools: DeployTools;
let dir: string;

beforeAll(async () => {
  // Builds Helm the first time on a machine (a few minutes); later calls return at once.
  await provisionDeployTools();
  tools = deployTools();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-'));
}, 900_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function helm(args: string[]): Promise<string> {
  const { stdout } = await run(tools.helm, args, { cwd: root, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** `helm template` of the chart, written to a file for the validators and parsed. */
async function render(name: string, args: string[] = []): Promise<Manifest[]> {
  const text = await helm(['template', 'renku', chart, '--namespace', 'renku', ...args]);
  fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
  return YAML.parseAllDocuments(text)
    .map((doc) => doc.toJSON() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/**
 * kubernetes-validate --strict: unknown fields are errors, not ignored. A kind it has no schema
 * for is only a WARN line, so callers also count the objects that passed.
 */
async function validate(file: string) {
  const versions = kubernetesVersions.flatMap((version) => ['-k', version]);
  return run(tools.kubernetesValidate, ['--strict', ...versions, file]).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  );
}

/** How many objects passed, counted once per Kubernetes version. */
function passed(output: string): number {
  return output.split('\n').filter((line) => / passed for resource /.test(line)).length;
}

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return found;
}

/** Stands in for a Secret's value; REDIS_URL must still read as a URL. */
const fromSecret = (name: string) =>
  name === 'REDIS_URL'
    ? 'redis://secret:6379'
    : name === 'GITLAB_SYSTEM_HOOK_TOKEN'
      ? 'from-a-secret-of-some-length'
      : 'from-a-secret';

/** A container's env as its process would see it, secrets replaced by a stand-in value. */
function containerEnv(deployment: Manifest): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of deployment.spec.template.spec.containers[0].env) {
    env[entry.name] = entry.valueFrom?.secretKeyRef ? fromSecret(entry.name) : entry.value;
  }
  return env;
}

describe('the Helm chart', () => {
  it('passes helm lint --strict with the default and the production values', async () => {
    await helm(['lint', '--strict', chart]);
    await helm(['lint', '--strict', chart, '-f', productionValues]);
  });

  it('renders default values that validate against the Kubernetes schemas', async () => {
    const manifests = await render('default');
    expect(manifests.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name)).toEqual(
      ['gateway', ...subgraphs].map((component) => `renku-renku-supergraph-${component}`),
    );

    const result = await validate(path.join(dir, 'default.yaml'));
    expect(result.output).not.toMatch(/ERROR|WARN/);
    expect(passed(result.output)).toBe(manifests.length * kubernetesVersions.length);
    expect(result.code).toBe(0);
  });

  it('renders the production values (replicas, Redis, router, autoscaling) that validate', async () => {
    const manifests = await render('production', ['-f', productionValues]);
    const kinds = new Set(manifests.map((m) => m.kind));
    for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress']) {
      expect(kinds).toContain(kind);
    }
    expect(find(manifests, 'Deployment', 'renku-renku-supergraph-router')).toBeDefined();

    const result = await validate(path.join(dir, 'production.yaml'));
    expect(result.output).not.toMatch(/ERROR|WARN/);
    expect(passed(result.output)).toBe(manifests.length * kubernetesVersions.length);
    expect(result.code).toBe(0);
  });

  it('fails the schema check for a Deployment with an unknown field', async () => {
    const text = fs.readFileSync(path.join(dir, 'default.yaml'), 'utf8');
    const broken = path.join(dir, 'broken.yaml');
    fs.writeFileSync(broken, text.replace('revisionHistoryLimit: 5', 'revisionHistoryLimits: 5'));

    const result = await validate(broken);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/ERROR .*'revisionHistoryLimits' was unexpected/);
  });

  it('gives every service an env its own config.ts accepts', async () => {
    const manifests = await render('production-env', ['-f', productionValues]);
    const deployment = (component: string) =>
      find(manifests, 'Deployment', `renku-renku-supergraph-${component}`);

    const gateway = readGatewayConfig(containerEnv(deployment('gateway')));
    expect(gateway.production).toBe(true);
    // Browser sign-in is on, with its client secret and the Redis URL from Secrets.
    expect(gateway.browser).toMatchObject({
      clientSecret: 'from-a-secret',
      redisUrl: 'redis://secret:6379',
      publicUrl: 'https://renku.example.org',
    });
    expect(gateway.rateLimits).toMatchObject({ perUser: 600, redisUrl: 'redis://secret:6379' });
    expect(gateway.corsOrigins).toEqual(['https://renku.example.org']);
    expect(gateway.trustProxy).toBe(1);
    expect(gateway.usageReporting?.key).toBe('from-a-secret');
    for (const name of subgraphs) {
      const service = find(manifests, 'Service', `renku-renku-supergraph-${name}`);
      expect(gateway.subgraphUrls[name]).toBe(
        `http://${service.metadata.name}:${service.spec.ports[0].port}/graphql`,
      );
    }
    expect(gateway.auth.issuer).toBe('https://auth.renku.example.org/realms/renku');

    expect(readIdentityConfig(containerEnv(deployment('identity'))).keycloak.clientSecret).toBe(
      'from-a-secret',
    );
    const projects = readProjectsConfig(containerEnv(deployment('projects')));
    expect(projects.neo4j.uri).toBe('neo4j://neo4j.neo4j.svc:7687');
    expect(projects.gitlab.url).toBe('https://gitlab.renku.example.org');
    const lineage = readLineageConfig(containerEnv(deployment('lineage')));
    expect(lineage.neo4j.password).toBe('from-a-secret');
    expect(lineage.webhooks?.gitlab).toEqual({
      url: 'https://gitlab.renku.example.org',
      serviceToken: 'from-a-secret',
    });
    expect(lineage.webhooks?.systemHookToken).toBe('from-a-secret-of-some-length');
    expect(readGitLabConfig(containerEnv(deployment('gitlab'))).gitlabUrl).toBe(
      'https://gitlab.renku.example.org',
    );

    // The resource classes of the values reach the sessions subgraph through a ConfigMap.
    const classes = find(manifests, 'ConfigMap', 'renku-renku-supergraph-resource-classes');
    const classesFile = path.join(dir, 'resource-classes.json');
    fs.writeFileSync(classesFile, classes.data!['resource-classes.json']);
    const sessions = readSessionsConfig({
      ...containerEnv(deployment('sessions')),
      SESSIONS_RESOURCE_CLASSES_FILE: classesFile,
    });
    expect(sessions.resourceClasses.default.name).toBe('small');
    expect(sessions.hub.apiUrl).toBe('http://hub.jupyterhub.svc:8081/hub/api');
    expect(sessions.neo4j.credentials).toEqual({ user: 'neo4j', password: 'from-a-secret' });
  });

  it('keeps secrets out of the manifests: every secret is a reference', async () => {
    const manifests = await render('secrets', ['-f', productionValues]);
    expect(manifests.map((m) => m.kind)).not.toContain('Secret');

    const secretNames = /PASSWORD|SECRET|_TOKEN$|APOLLO_KEY|REDIS_URL/;
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment')) {
      for (const entry of deployment.spec.template.spec.containers[0].env) {
        if (secretNames.test(entry.name)) expect(entry.valueFrom?.secretKeyRef).toBeDefined();
      }
    }
  });

  it('runs every container as non-root with a read-only root file system', async () => {
    const manifests = await render('security', ['-f', productionValues]);
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment')) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.readinessProbe.httpGet.path).toMatch(/^\/health/);
        expect(container.resources.requests).toBeDefined();
      }
    }
  });

  it('refuses a misspelt value and a Neo4j URI that is not Bolt (values.schema.json)', async () => {
    await expect(render('misspelt', ['--set', 'gateway.replica=3'])).rejects.toThrow(
      /additional properties 'replica' not allowed/,
    );
    await expect(render('http-neo4j', ['--set', 'neo4j.uri=http://neo4j:7474'])).rejects.toThrow(
      /neo4j\/uri/,
    );
  });

  it('refuses browser sign-in on several gateway replicas without Redis', async () => {
    const args = ['--set', 'gateway.browserSignIn.enabled=true', '--set', 'gateway.replicas=2'];
    await expect(render('no-redis', args)).rejects.toThrow(/needs Redis/);
    await expect(
      render('one-gateway', [...args.slice(0, 2), '--set', 'gateway.replicas=1']),
    ).resolves.toBeDefined();
  });

  it('mounts the committed supergraph, unchanged, for the gateway and the router', async () => {
    const manifests = await render('supergraph', ['--set', 'router.enabled=true']);
    const configMap = find(manifests, 'ConfigMap', 'renku-renku-supergraph-supergraph');
    expect(configMap.data!['supergraph.graphql']).toBe(
      fs.readFileSync(supergraphFile, 'utf8').replace(/\n$/, ''),
    );
  });

  it('gives the router a configuration its own schema accepts, routing every subgraph', async () => {
    const manifests = await render('router', ['-f', productionValues]);
    const routerYaml = find(manifests, 'ConfigMap', 'renku-renku-supergraph-router').data![
      'router.yaml'
    ];
    const router = find(manifests, 'Deployment', 'renku-renku-supergraph-router');
    expect(router.spec.template.spec.containers[0].image).toBe(
      `ghcr.io/apollographql/router:v${routerVersion}`,
    );

    const config = YAML.parse(routerYaml);
    const graphs = [
      ...fs.readFileSync(supergraphFile, 'utf8').matchAll(/@join__graph\(name: "(\w+)"/g),
    ];
    expect(Object.keys(config.override_subgraph_url).sort()).toEqual(
      graphs.map((match) => match[1]).sort(),
    );
    expect(config.limits.router).toMatchObject({
      http_max_request_bytes: 100 * 1024,
      max_depth: 15,
      max_aliases: 30,
    });

    const configFile = path.join(dir, 'router.yaml');
    fs.writeFileSync(configFile, routerYaml);
    await expect(checkRouterConfig(configFile)).resolves.toBe('valid');

    // The same check refuses a key the router does not know.
    fs.writeFileSync(configFile, routerYaml.replace('introspection:', 'introspektion:'));
    await expect(checkRouterConfig(configFile)).resolves.toMatch(/introspektion/);
  });
});

/** Validates a router.yaml against the router's JSON schema; 'valid' or the first error. */
async function checkRouterConfig(file: string): Promise<string> {
  const script = [
    'import json, sys, yaml, jsonschema',
    'schema = json.load(open(sys.argv[1]))',
    'config = yaml.safe_load(open(sys.argv[2]))',
    'error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(config))',
    'print("valid" if error is None else error.message)',
  ].join('\n');
  const { stdout } = await run(tools.python, ['-c', script, tools.routerConfigSchema, file]);
  return stdout.trim();
}
