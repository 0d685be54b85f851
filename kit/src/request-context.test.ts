import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { createLogger } from './logger';
import { passRequestIdToBackends, requestScope } from './request-context';

describe('request ids passed on to backends', () => {
  let backend: http.Server;
  let service: http.Server;
  let backendUrl: string;
  let serviceUrl: string;

  beforeAll(async () => {
    // The backend answers with the request id it was sent; the service asks it with fetch.
    backend = http.createServer((req, res) => res.end(req.headers['x-request-id'] ?? 'none'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;

    const app = express();
    app.use(requestScope(createLogger('test', 'silent')));
    app.get('/plain', async (_req, res) => {
      res.send(await (await fetch(backendUrl)).text());
    });
    app.get('/own-header', async (_req, res) => {
      res.send(await (await fetch(backendUrl, { headers: { 'X-Request-Id': 'own' } })).text());
    });
    service = http.createServer(app);
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    passRequestIdToBackends();
  });

  afterAll(() => {
    backend.closeAllConnections();
    service.closeAllConnections();
    backend.close();
    service.close();
  });

  it('go with every fetch made while serving the request', async () => {
    const answer = await fetch(`${serviceUrl}/plain`, { headers: { 'x-request-id': 'req-42' } });

    expect(await answer.text()).toBe('req-42');
  });

  it('leave a header the caller set alone', async () => {
    const answer = await fetch(`${serviceUrl}/own-header`, {
      headers: { 'x-request-id': 'req-43' },
    });

    expect(await answer.text()).toBe('own');
  });

  it('are not invented for fetches outside a request', async () => {
    expect(await (await fetch(backendUrl)).text()).toBe('none');
  });
});
