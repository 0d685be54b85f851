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

function post(agent, url, payload) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
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
  concurrency,
  seconds,
  maxRequests = 1e6,
  check,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  // Requests cycle through the variants' variables, so that concurrent requests differ.
  const payloads = variants.map((variables) => Buffer.from(JSON.stringify({ query, variables })));
  const latencies = [];
  let invalid = 0;
  let failed = 0;
  let sent = 0;

  const started = performance.now();
  const deadline = started + seconds * 1000;
  const slot = async () => {
    while (performance.now() < deadline && sent < maxRequests) {
      const payload = payloads[sent % payloads.length];
      sent += 1;
      const t0 = performance.now();
      try {
        const { status, text } = await post(agent, url, payload);
        latencies.push(performance.now() - t0);
        if (status !== 200 || !check(text)) invalid += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();

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
