import { setTimeout as sleep } from 'node:timers/promises';

import { noRetries, retryingFetch } from './retry';

describe('retryingFetch', () => {
  // Regression (#7): the signal of a call that had answered stayed armed until its timeout,
  // and Node's fetch keeps the call reachable from it: under load every answer of the last
  // 10 s stayed in memory (300 MB of live heap).
  it('disarms the timeout of a call once its answer is in, and keeps the answer whole', async () => {
    let signal: AbortSignal | undefined;
    const send = async (_input: RequestInfo | URL, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return new Response('{"data":{"greeting":"hello"}}', {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };

    const response = await retryingFetch(30, noRetries, send as typeof fetch)('http://x/');
    await sleep(100);

    expect(signal?.aborted).toBe(false);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ data: { greeting: 'hello' } });
  });

  it('keeps an answer without a body as one', async () => {
    const send = async () => new Response(null, { status: 204 });

    const response = await retryingFetch(1000, noRetries, send as typeof fetch)('http://x/');

    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('aborts a call that outlives its time with a TimeoutError', async () => {
    const send = (_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );

    const call = retryingFetch(20, noRetries, send as typeof fetch)('http://x/');

    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
