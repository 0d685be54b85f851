import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { noRetries, retryingFetch } from './retry';

/** A server on a loopback port that answers with `handle`, and the headers of each call. */
async function serve(handle: http.RequestListener) {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url, seen, stop };
}

describe("the gateway's subgraph calls", () => {
  it("never follow a redirect, which would take the caller's GitLab token elsewhere (#4)", async () => {
    const elsewhere = await serve((_req, res) => res.end('{"data":{}}'));
    // Another origin: fetch drops `authorization` there, but not `x-gitlab-token`.
    const target = elsewhere.url.replace('127.0.0.1', 'localhost');
    const subgraph = await serve((_req, res) => {
      res.writeHead(307, { location: target });
      res.end();
    });
    try {
      const response = await retryingFetch(5000, noRetries)(subgraph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gitlab-token': 'glpat-of-ada' },
        body: '{"query":"{ a }"}',
      });

      expect(response.status).toBe(307);
      expect(elsewhere.seen).toEqual([]);
    } finally {
      await subgraph.stop();
      await elsewhere.stop();
    }
  });
});
