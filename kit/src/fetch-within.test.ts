import { setTimeout as sleep } from 'node:timers/promises';

import { fetchWithin } from './fetch-within';

describe('fetchWithin', () => {
  // Regression (#7): the gateway's subgraph calls were armed until their timeout, and under
  // load every answer of the last 10 s stayed in memory (300 MB of live heap).
  it('disarms the timeout of a call once its answer is in, and keeps the answer whole', async () => {
    let signal: AbortSignal | undefined;
    const send = async (_input: RequestInfo | URL, init?: RequestInit) => {
      signal = init?.signal ?? undefined;
      return new Response('{"data":{"greeting":"hello"}}', {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };

    const response = await fetchWithin('http://x/', undefined, 30, send as typeof fetch);
    await sleep(100);

    expect(signal?.aborted).toBe(false);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ data: { greeting: 'hello' } });
  });

  it('keeps an answer without a body as one', async () => {
    const send = async () => new Response(null, { status: 204 });

    const response = await fetchWithin('http://x/', undefined, 1000, send as typeof fetch);

    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('aborts a call that outlives its time with a TimeoutError', async () => {
    const send = (_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );

    const call = fetchWithin('http://x/', undefined, 20, send as typeof fetch);

    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
