import { requestIdHeader } from '@renku-supergraph/kit';

type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

interface Answer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

/**
 * Headers that differ between requests without changing the answer: they stay
 * out of the key, and the shared call carries the first caller's.
 */
const perRequestHeaders = new Set([requestIdHeader, 'traceparent', 'tracestate', 'baggage']);

/**
 * Lets identical subgraph queries that are in flight at the same moment share
 * one call: same URL, same body (operation and variables) and the same
 * credentials, so a caller only ever shares with callers who would get the
 * same answer (two anonymous visitors of one public project, one page asking
 * for the same entity twice). Nothing outlives the call: this is not a cache.
 * `shareable` says whether the call being sent is a query; mutations always
 * go on their own.
 */
export function sharingInFlight(send: Fetcher, shareable: () => boolean): Fetcher {
  const inFlight = new Map<string, Promise<Answer>>();

  return async (input, init) => {
    if (!shareable() || typeof init?.body !== 'string') return send(input, init);
    const key = keyOf(input, init);
    let call = inFlight.get(key);
    if (!call) {
      call = send(input, init).then(read);
      inFlight.set(key, call);
      // Gone once settled, so a later request asks the subgraph again.
      const forget = () => inFlight.delete(key);
      call.then(forget, forget);
    }
    const answer = await call;
    // Each caller gets its own Response; the body is copied into it.
    return new Response(answer.body, {
      status: answer.status,
      statusText: answer.statusText,
      headers: answer.headers,
    });
  };
}

async function read(response: Response): Promise<Answer> {
  const body = response.body === null ? null : await response.arrayBuffer();
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body,
  };
}

function keyOf(input: string, init: RequestInit): string {
  // A Headers object lists its names lower-cased and sorted.
  const headers = [...new Headers(init.headers)].filter(([name]) => !perRequestHeaders.has(name));
  return JSON.stringify([init.method ?? 'GET', input, headers, init.body]);
}
