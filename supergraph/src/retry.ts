import { fetchWithin } from '@renku-supergraph/kit';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a subgraph call that failed on the way is tried again. */
export interface RetryPolicy {
  /** Attempts after the first, for queries only. Default 2; 0 turns retries off. */
  retries: number;
  /** The pause before the first retry; it doubles each time, jittered. Default 50 ms. */
  backoffMs: number;
}

export const noRetries: RetryPolicy = { retries: 0, backoffMs: 0 };

/** What the call being sent may do; the fetcher cannot see the operation itself. */
interface RetryScope {
  retries: number;
  /**
   * The call may be shared with an identical one in flight (see in-flight.ts): a query, sent for
   * a client's query. The reads the gateway makes for a client's mutation are queries too, but
   * sent after its write: joining a read that set out before the write would answer with the
   * value from before it.
   */
  shareable: boolean;
  onRetry?: (attempt: number, reason: string) => void;
}

const scope = new AsyncLocalStorage<RetryScope>();

/**
 * Runs one subgraph call, allowing retries only when the operation the
 * gateway sends is a query: a mutation that failed on the way may still have
 * been applied, so sending it again could apply it twice.
 */
export function withRetries<T>(
  document: string | undefined,
  policy: RetryPolicy,
  call: () => Promise<T>,
  onRetry?: RetryScope['onRetry'],
  /** The client's operation is a mutation (its reads are then never shared). */
  forMutation = false,
): Promise<T> {
  const query = document !== undefined && isQuery(document);
  const shareable = query && !forMutation;
  return scope.run({ retries: query ? policy.retries : 0, shareable, onRetry }, call);
}

/** Whether the subgraph call being sent may be shared (false outside `withRetries`). */
export const callShareable = (): boolean => scope.getStore()?.shareable ?? false;

/** Whether a document's single operation is a query (the gateway sends one per call). */
export function isQuery(document: string): boolean {
  const start = document.replace(/^(?:[\s,\uFEFF]+|#[^\n\r]*)*/, '');
  return start.startsWith('{') || /^query\b/.test(start);
}

/** Gateways and proxies in front of a subgraph answer these while it is away or restarting. */
const retriedStatuses = new Set([502, 503, 504]);

/**
 * A fetch bounded by `timeoutMs` in total, retries included, which tries a
 * query again after a connection failure or a 502/503/504. Anything else (a
 * GraphQL error, a 500, a timeout) is the answer: trying again would not help.
 */
export function retryingFetch(
  timeoutMs: number,
  policy: RetryPolicy,
  send: typeof fetch = fetch,
): (input: string, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const deadline = Date.now() + timeoutMs;
    const { retries, onRetry } = scope.getStore() ?? { retries: 0 };

    for (let attempt = 0; ; attempt += 1) {
      let response: Response | undefined;
      let failure: unknown;
      try {
        // The answer comes back read, so that its timer can go (see fetchWithin). A redirect is
        // the answer too: following it would take the caller's headers (`x-gitlab-token`, which
        // fetch keeps across origins) and the query to wherever it points.
        const manual = { ...init, redirect: 'manual' as const };
        response = await fetchWithin(input, manual, Math.max(1, deadline - Date.now()), send);
      } catch (error) {
        failure = error;
      }

      const reason = response ? `HTTP ${response.status}` : connectionFailure(failure);
      const retryable = response ? retriedStatuses.has(response.status) : reason !== undefined;
      // Equal jitter: replicas that lost the same subgraph do not come back in step.
      const pause = policy.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
      if (attempt >= retries || !retryable || Date.now() + pause >= deadline) {
        if (response) return response;
        throw failure;
      }

      onRetry?.(attempt + 1, reason!);
      await sleep(pause);
    }
  };
}

/**
 * Names a failure to connect (refused, reset, unknown host): Node's fetch
 * reports those as a TypeError with the socket error as its cause. A timeout
 * is not one: its time is spent.
 */
function connectionFailure(error: unknown): string | undefined {
  // By name, not instanceof: under a test runner it may be another realm's TypeError.
  const failure = error as { name?: unknown; message?: unknown; cause?: { code?: unknown } };
  if (failure?.name !== 'TypeError') return undefined;
  return typeof failure.cause?.code === 'string' ? failure.cause.code : String(failure.message);
}
