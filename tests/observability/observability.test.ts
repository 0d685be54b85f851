import neo4j from 'neo4j-driver';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger, type Running } from '@renku-supergraph/kit';
import { freePort } from '../../stack/src/ports';
import type { Service } from '../../stack/src/process';
import { startNodeService } from '../../stack/src/subgraph-process';
import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { readGatewayConfig, startGateway } from '../../supergraph/src';
import { composeSupergraph, readRoverConfig } from '../../supergraph/src/compose';
import { readProjectsConfig, startProjectsSubgraph } from '../../subgraphs/projects/src';
import { logLines, startReceiver, watchOutgoingHosts, type Receiver } from './receivers';

// Issue #8, observability: request ids, Prometheus metrics, OpenTelemetry traces, GraphOS
// usage reports and health probes, on a real gateway over the real projects subgraph and Neo4j.
// Every exporter and reporting endpoint points at a receiver on 127.0.0.1. Traces are taken
// from services in processes of their own, as deployed: the OTLP exporter loads node:http with
// a dynamic import, which Jest's module sandbox refuses.

interface Answer {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string } }[];
}

const repoRoot = path.resolve(__dirname, '../..');
const projectPath = 'ada.analyst/observed';
const projectQuery = `query ObservedProject { project(path: "${projectPath}") { path name } }`;
const spanKind = { server: 2, client: 3 };

let dataDir: string;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let collector: Receiver;
let ingress: Receiver;
let subgraph: Running;
let gateway: Running;
let reportingGateway: Running | undefined;
const gatewayLogs = logLines();
const subgraphLogs = logLines();
const outgoing = watchOutgoingHosts();

beforeAll(async () => {
  await provisionNeo4j();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'observability-'));
  database = await startNeo4j({ dataDir, logFile: path.join(dataDir, 'neo4j.log') });
  const seeder = neo4j.driver(database.url);
  try {
    await seeder.executeQuery(
      'CREATE (:Project {path: $path, name: $name, slug: $slug, visibility: $visibility})',
      { path: projectPath, name: 'Observed', slug: 'observed', visibility: 'public' },
    );
  } finally {
    await seeder.close();
  }

  collector = await startReceiver();
  ingress = await startReceiver();

  // Read by the subgraph's own config.ts, as every other setting (issue #8).
  subgraph = await startProjectsSubgraph(
    readProjectsConfig({ PORT: '0', NEO4J_URI: database.url, METRICS_PORT: '0' }),
    createLogger('projects', 'debug', subgraphLogs.stream),
  );

  gateway = await startGateway(
    readGatewayConfig({
      PORT: '0',
      SUPERGRAPH_FILE: writeSupergraph(['projects']),
      SUBGRAPH_PROJECTS_URL: subgraph.url,
      METRICS_PORT: '0',
      METRICS_MAX_OPERATIONS: '2',
    }),
    createLogger('gateway', 'debug', gatewayLogs.stream),
  );
});

afterAll(async () => {
  outgoing.stop();
  await reportingGateway?.stop();
  await gateway?.stop();
  await subgraph?.stop();
  await collector?.stop();
  await ingress?.stop();
  await database?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A supergraph of some subgraphs only, so that the others need not run. */
function writeSupergraph(names: string[]): string {
  const file = path.join(dataDir, `supergraph-${names.join('-')}.graphql`);
  const subgraphs = readRoverConfig(path.join(repoRoot, 'rover.yaml'));
  fs.writeFileSync(file, composeSupergraph(subgraphs.filter((s) => names.includes(s.name))));
  return file;
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ answer: Answer; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { answer: (await response.json()) as Answer, headers: response.headers };
}

async function scrape(url: string | undefined): Promise<string> {
  const response = await fetch(url!);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series in Prometheus's text format, 0 when absent. */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('request ids', () => {
  it('keeps a sane client id, answers it and logs it in the gateway and the subgraph', async () => {
    const { answer, headers } = await post(
      gateway.url,
      { query: projectQuery },
      { 'x-request-id': 'obs-test-0001' },
    );

    expect(answer.errors).toBeUndefined();
    expect(answer.data?.project).toEqual({ path: projectPath, name: 'Observed' });
    expect(headers.get('x-request-id')).toBe('obs-test-0001');
    const tagged = (lines: Record<string, unknown>[]) =>
      lines.filter((line) => line.requestId === 'obs-test-0001');
    expect(tagged(gatewayLogs.lines).map((line) => line.msg)).toContain('served');
    expect(tagged(subgraphLogs.lines).map((line) => line.msg)).toContain('served');
  });

  it('replaces an id with unsafe characters by a new one', async () => {
    const { headers } = await post(
      gateway.url,
      { query: projectQuery },
      { 'x-request-id': 'evil id"\u00e9' + 'x'.repeat(80) },
    );

    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('makes one when the client sends none, and the subgraph logs the same one', async () => {
    const { headers } = await post(gateway.url, { query: projectQuery });

    const requestId = headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(subgraphLogs.lines.some((line) => line.requestId === requestId)).toBe(true);
  });
});

describe('metrics', () => {
  it('are served on their own port, not on the API port', async () => {
    expect(gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(gateway.metricsUrl!).port).not.toBe(String(gateway.port));
    const onApiPort = await fetch(new URL('/metrics', gateway.url));
    expect(onApiPort.status).toBe(404);
  });

  it('count gateway requests by operation and outcome, errors by code, fetches by subgraph', async () => {
    const before = await scrape(gateway.metricsUrl);
    await post(gateway.url, { query: projectQuery });
    await post(gateway.url, { query: '{ project(path: ' });
    await post(gateway.url, { query: '{ project(path: "nobody/nothing") { path } }' });

    const after = await scrape(gateway.metricsUrl);
    const grew = (series: string) => sample(after, series) - sample(before, series);
    expect(grew('graphql_requests_total{operation="ObservedProject",outcome="success"}')).toBe(1);
    expect(grew('graphql_requests_total{operation="unknown",outcome="error"}')).toBe(1);
    expect(grew('graphql_requests_total{operation="anonymous",outcome="success"}')).toBe(1);
    expect(grew('graphql_errors_total{code="GRAPHQL_PARSE_FAILED"}')).toBe(1);
    expect(grew('graphql_request_duration_seconds_count{operation="ObservedProject"}')).toBe(1);
    expect(grew('gateway_subgraph_fetches_total{subgraph="projects",outcome="success"}')).toBe(2);
    expect(grew('gateway_subgraph_fetch_duration_seconds_count{subgraph="projects"}')).toBe(2);
  });

  it('keep operation names bounded: names past the limit count as other', async () => {
    for (const name of ['First', 'Second', 'Third', 'Fourth']) {
      await post(gateway.url, { query: `query ${name} { project(path: "x/y") { path } }` });
    }

    const metrics = await scrape(gateway.metricsUrl);
    const operations = new Set(
      [...metrics.matchAll(/^graphql_requests_total\{operation="([^"]+)"/gm)].map((m) => m[1]),
    );
    // METRICS_MAX_OPERATIONS is 2 and ObservedProject came first.
    expect([...operations].sort()).toEqual([
      'First',
      'ObservedProject',
      'anonymous',
      'other',
      'unknown',
    ]);
  });

  it('count the requests a subgraph serves, by the operation the gateway sent', async () => {
    const before = await scrape(subgraph.metricsUrl);
    await post(gateway.url, { query: projectQuery });

    const after = await scrape(subgraph.metricsUrl);
    const series =
      'graphql_requests_total{operation="ObservedProject__projects__0",outcome="success"}';
    expect(sample(after, series) - sample(before, series)).toBe(1);
    expect(after).toContain('graphql_request_duration_seconds_bucket');
    expect(after).toContain('process_cpu_seconds_total');
  });
});

describe('traces', () => {
  const processes: Service[] = [];
  let tracedGateway: Service;

  beforeAll(async () => {
    const logDir = path.join(dataDir, 'logs');
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const subgraphPort = await freePort();
    processes.push(
      await startNodeService({
        name: 'projects',
        workspace: 'subgraphs/projects',
        port: subgraphPort,
        env: { ...tracing, NEO4J_URI: database.url },
        logDir,
      }),
    );
    tracedGateway = await startNodeService({
      name: 'gateway',
      workspace: 'supergraph',
      port: await freePort(),
      env: {
        ...tracing,
        SUPERGRAPH_FILE: writeSupergraph(['projects']),
        SUBGRAPH_PROJECTS_URL: `http://127.0.0.1:${subgraphPort}/graphql`,
      },
      logDir,
    });
    processes.push(tracedGateway);
  });

  afterAll(async () => {
    for (const service of processes.reverse()) await service.stop();
  });

  it('carry the client trace from the gateway through the subgraph into Neo4j', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await post(
      tracedGateway.url,
      { query: projectQuery },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );

    const spans = await spansOf(traceId, (found) =>
      found.some((span) => span.name.startsWith('neo4j read')),
    );
    const service = (span: OtlpSpan) =>
      span.attributes.find((a) => a.key === 'renku.service')?.value.stringValue;
    const byId = new Map(spans.map((span) => [span.spanId, span]));

    const gatewaySpan = spans.find((s) => s.kind === spanKind.server && service(s) === 'gateway');
    expect(gatewaySpan?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(spans.map((span) => span.name)).toEqual(
      expect.arrayContaining(['gateway.request', 'gateway.fetch']),
    );

    // The subgraph's span continues the gateway's call to it (the W3C traceparent header).
    const subgraphSpan = spans.find((s) => s.kind === spanKind.server && service(s) === 'projects');
    const caller = byId.get(subgraphSpan?.parentSpanId ?? '');
    expect(caller?.kind).toBe(spanKind.client);
    expect(byId.get(caller?.parentSpanId ?? '')?.name).toBe('gateway.fetch');

    const neo4jSpan = spans.find((span) => span.name === 'neo4j read projects by path');
    expect(neo4jSpan?.kind).toBe(spanKind.client);
    expect(ancestors(neo4jSpan!, byId)).toContain(subgraphSpan);
  });
});

describe('health', () => {
  it('answers liveness and readiness on the gateway and the subgraph', async () => {
    for (const base of [gateway.url, subgraph.url]) {
      for (const probe of ['/health', '/health/live', '/health/ready']) {
        const response = await fetch(new URL(probe, base));
        expect({ probe, status: response.status }).toEqual({ probe, status: 200 });
      }
    }
  });
});

describe('Apollo GraphOS usage reporting', () => {
  it('is off without APOLLO_KEY and APOLLO_GRAPH_REF: nothing reaches the ingress', async () => {
    const quiet = await startGateway(
      readGatewayConfig({
        PORT: '0',
        SUPERGRAPH_FILE: writeSupergraph(['projects']),
        SUBGRAPH_PROJECTS_URL: subgraph.url,
        APOLLO_USAGE_REPORTING_URL: ingress.url,
      }),
      createLogger('gateway', 'silent'),
    );
    await post(quiet.url, { query: projectQuery });
    // Stopping would send what a reporter holds.
    await quiet.stop();

    expect(ingress.received).toEqual([]);
  });

  it('sends a report to the configured ingress when both are set', async () => {
    const lineagePort = await freePort();
    reportingGateway = await startGateway(
      readGatewayConfig({
        PORT: '0',
        SUPERGRAPH_FILE: writeSupergraph(['projects', 'lineage']),
        SUBGRAPH_PROJECTS_URL: subgraph.url,
        // Nothing listens there: the gateway is live, but not ready.
        SUBGRAPH_LINEAGE_URL: `http://127.0.0.1:${lineagePort}/graphql`,
        APOLLO_KEY: 'service:renku-test:not-a-real-key',
        APOLLO_GRAPH_REF: 'renku-supergraph@observability-test',
        APOLLO_USAGE_REPORTING_URL: ingress.url,
      }),
      createLogger('gateway', 'silent'),
    );
    const { answer } = await post(reportingGateway.url, { query: projectQuery });
    expect(answer.data?.project).toEqual({ path: projectPath, name: 'Observed' });
    expect((await fetch(new URL('/health/live', reportingGateway.url))).status).toBe(200);
    expect((await fetch(new URL('/health/ready', reportingGateway.url))).status).toBe(503);

    // Stopping sends what the reporter holds.
    await reportingGateway.stop();
    reportingGateway = undefined;

    expect(ingress.received.length).toBeGreaterThan(0);
    const report = ingress.received[0];
    expect(report.path).toBe('/api/ingress/traces');
    expect(report.headers['x-api-key']).toBe('service:renku-test:not-a-real-key');
    // A protobuf Report: its strings appear as they are.
    expect(report.body.toString('latin1')).toContain('renku-supergraph@observability-test');
    expect(report.body.toString('latin1')).toContain('ObservedProject');
  });

  it('sends nothing anywhere but this machine', () => {
    expect([...outgoing.hosts]).toEqual(['127.0.0.1']);
  });
});

/** The spans of one trace as the collector received them, once `complete` says all are in. */
async function spansOf(
  traceId: string,
  complete: (spans: OtlpSpan[]) => boolean,
): Promise<OtlpSpan[]> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const spans = collector.received
      .filter((request) => request.path === '/v1/traces')
      .flatMap((request) => {
        const payload = JSON.parse(request.body.toString('utf8'));
        return payload.resourceSpans.flatMap((r: any) =>
          r.scopeSpans.flatMap((s: any) => s.spans as OtlpSpan[]),
        );
      })
      .filter((span: OtlpSpan) => span.traceId === traceId);
    if (complete(spans)) return spans;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the collector did not receive the spans of trace ${traceId}`);
}

function ancestors(span: OtlpSpan, byId: Map<string, OtlpSpan>): OtlpSpan[] {
  const found: OtlpSpan[] = [];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent;) {
    found.push(parent);
    parent = byId.get(parent.parentSpanId ?? '');
  }
  return found;
}
