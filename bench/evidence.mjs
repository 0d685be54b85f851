// Measurements behind the tuning decisions that need no load rounds: the cost of
// the first request (query planning, what a warm-up would save), what compressing
// the fan-out answer would save and cost, and whether subgraphs add field traces.
import { gzipSync } from 'node:zlib';

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
