// Measurements behind the tuning decisions that need no load rounds: the cost of
// the first request (query planning, what a warm-up would save), what compressing
// the fan-out answer would save and cost, and whether subgraphs add field traces.
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';

import { repoRoot, rootRequire } from './root-require.mjs';

async function timed(url, query, headers = {}) {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { ms: performance.now() - started, text };
}

/** First request of an operation (planned now) against the median of the next ten. */
export async function firstRequestCost(url, query) {
  const first = await timed(url, query);
  const next = [];
  for (let i = 0; i < 10; i += 1) next.push((await timed(url, query)).ms);
  next.sort((a, b) => a - b);
  return { firstMs: first.ms, warmMs: next[5] };
}

/**
 * What planning at start saves the first request: the gateway started `rounds` times with each
 * env, alternating, the first request of `query` timed each time; medians in ms.
 */
export async function firstRequestAfterStart(start, envs, query, rounds = 5) {
  const times = Object.fromEntries(Object.keys(envs).map((name) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const names = Object.keys(envs);
    for (const name of round % 2 === 0 ? names : names.reverse()) {
      const target = await start(envs[name]);
      try {
        times[name].push((await timed(target.url, query)).ms);
      } finally {
        await target.stop();
      }
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return Object.fromEntries(
    Object.entries(times).map(([name, values]) => [name, { medianMs: median(values), values }]),
  );
}

/**
 * How long the gateway's warm-up takes to plan `query` (with and without its name, as it does)
 * in this process, which has not planned before: what the warm-up takes off the first request.
 */
export async function planningCost(supergraphFile, query) {
  const { ApolloGateway } = rootRequire('@apollo/gateway');
  const { createLogger } = rootRequire('@renku-supergraph/kit');
  const { warmQueryPlans } = rootRequire(`${repoRoot}/supergraph/dist/plan-warm-up.js`);
  const log = createLogger('bench-planning', 'warn');
  const gateway = new ApolloGateway({
    supergraphSdl: fs.readFileSync(supergraphFile, 'utf8'),
    logger: log,
    buildService: () => ({ process: async () => ({}) }),
  });
  let schema;
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => (schema = apiSchema));
  await gateway.load();
  const started = performance.now();
  const { planned, failed } = await warmQueryPlans(gateway, schema, [query], log);
  const ms = performance.now() - started;
  await gateway.stop();
  if (failed > 0) throw new Error('the benchmark query could not be planned');
  return { ms, plans: planned };
}

/** Size of the answer, gzipped size and the CPU time gzip takes (median of 20). */
export async function compressionCost(url, query) {
  const { text } = await timed(url, query);
  const body = Buffer.from(text);
  const times = [];
  let gzipped = 0;
  for (let i = 0; i < 20; i += 1) {
    const started = performance.now();
    gzipped = gzipSync(body, { level: 6 }).length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { bytes: body.length, gzipBytes: gzipped, gzipMs: times[10] };
}

/** Whether a subgraph answers with a field-level trace when a gateway asks for one. */
export async function subgraphTraces(subgraphUrl) {
  const { text } = await timed(subgraphUrl, '{ _service { sdl } }', {
    'apollo-federation-include-trace': 'ftv1',
  });
  return JSON.parse(text).extensions?.ftv1 !== undefined;
}
