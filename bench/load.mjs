// A closed-loop load client: `concurrency` requests in flight, each sent as soon
// as the previous one of its slot has answered, for a fixed time and at most a
// fixed number of requests. Unlike HTTP load tools it reads every body and counts
// an answer as valid only when it is complete and has no errors.
import http from 'node:http';

/**
 * Returns a checker that accepts a body when it equals an already-checked one
 * (cheap: most answers are byte-identical) or when `isComplete(parsed)` says so.
 */
export function bodyChecker(isComplete) {
  const known = new Set();
  return (text) => {
    if (known.has(text)) return true;
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return false;
    }
    if (body.errors?.length || !body.data || !isComplete(body.data)) return false;
    if (known.size < 256) known.add(text);
    return true;
  };
}

export function post(agent, url, payload, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': payload.length,
        },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(30_000, () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(payload);
  });
}

/** Runs the load and returns latency percentiles (ms), throughput (req/s) and counts. */
export async function runLoad({
  url,
  query,
  variants = [undefined],
  headers = {},
  concurrency,
  seconds,
  maxRequests = 1e6,
  check,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  // Requests cycle through the variants' variables, so that concurrent requests differ.
  const payloads = variants.map((variables) => Buffer.from(JSON.stringify({ query, variables })));
  try {
    return await runLoop({
      concurrency,
      seconds,
      maxRequests,
      once: async (sent) => {
        const { status, text } = await post(agent, url, payloads[sent % payloads.length], headers);
        return status === 200 && check(text);
      },
    });
  } finally {
    agent.destroy();
  }
}

/**
 * The closed loop itself: `concurrency` slots each calling `once(n)` (true when the
 * answer was valid; a throw counts as a transport failure) until time or `maxRequests`
 * is up. Latency is `once`'s whole duration, so a client that makes several calls per
 * request is measured as one request.
 */
export async function runLoop({ concurrency, seconds, maxRequests = 1e6, once }) {
  const latencies = [];
  let invalid = 0;
  let failed = 0;
  let sent = 0;

  const started = performance.now();
  const deadline = started + seconds * 1000;
  const slot = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      const n = sent;
      sent += 1;
      const t0 = performance.now();
      try {
        const valid = await once(n);
        latencies.push(performance.now() - t0);
        if (!valid) invalid += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  const elapsed = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const at = (q) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    invalid,
    failed,
    throughput: latencies.length / elapsed,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
  };
}
