import { sharingInFlight } from './in-flight';

/** A subgraph stand-in that answers only when told to, counting the calls it got. */
function heldSubgraph() {
  const calls: RequestInit[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const send = async (_input: string, init?: RequestInit) => {
    calls.push(init ?? {});
    await released;
    return new Response(`{"data":{"n":${calls.length}}}`, {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { calls, release, send };
}

const init = (headers: Record<string, string>, body = '{"query":"{ n }"}'): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

describe('sharingInFlight', () => {
  it('sends identical queries in flight together once, and gives each caller its own answer', async () => {
    const subgraph = heldSubgraph();
    const fetcher = sharingInFlight(subgraph.send, () => true);

    const answers = [1, 2, 3].map((i) =>
      fetcher('http://s/graphql', init({ authorization: 'Bearer a', 'x-request-id': `r${i}` })),
    );
    subgraph.release();
    const bodies = await Promise.all(answers.map(async (a) => (await a).json()));

    expect(subgraph.calls).toHaveLength(1);
    expect(bodies).toEqual([1, 2, 3].map(() => ({ data: { n: 1 } })));
  });

  it('never shares between different credentials, bodies or addresses', async () => {
    const subgraph = heldSubgraph();
    const fetcher = sharingInFlight(subgraph.send, () => true);

    const answers = [
      fetcher('http://s/graphql', init({ authorization: 'Bearer a' })),
      fetcher('http://s/graphql', init({ authorization: 'Bearer b' })),
      fetcher('http://s/graphql', init({})),
      fetcher('http://s/graphql', init({ authorization: 'Bearer a', 'x-gitlab-token': 'g' })),
      fetcher('http://s/graphql', init({ authorization: 'Bearer a' }, '{"query":"{ m }"}')),
      fetcher('http://t/graphql', init({ authorization: 'Bearer a' })),
    ];
    subgraph.release();
    await Promise.all(answers);

    expect(subgraph.calls).toHaveLength(6);
  });

  it('sends what is not a query on its own', async () => {
    const subgraph = heldSubgraph();
    const fetcher = sharingInFlight(subgraph.send, () => false);

    const answers = [1, 2].map(() => fetcher('http://s/graphql', init({})));
    subgraph.release();
    await Promise.all(answers);

    expect(subgraph.calls).toHaveLength(2);
  });

  it('asks again once the shared call has settled: nothing is cached', async () => {
    const subgraph = heldSubgraph();
    const fetcher = sharingInFlight(subgraph.send, () => true);
    subgraph.release();

    await fetcher('http://s/graphql', init({}));
    await fetcher('http://s/graphql', init({}));

    expect(subgraph.calls).toHaveLength(2);
  });

  it('gives every caller the failure of a shared call that failed', async () => {
    let calls = 0;
    const fetcher = sharingInFlight(
      async () => {
        calls += 1;
        await new Promise((resolve) => setImmediate(resolve));
        throw new TypeError('fetch failed');
      },
      () => true,
    );

    const answers = [1, 2].map(() => fetcher('http://s/graphql', init({})));

    for (const answer of answers) await expect(answer).rejects.toThrow('fetch failed');
    expect(calls).toBe(1);
  });
});
