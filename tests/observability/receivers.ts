import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Un-gzipped when the sender gzipped it. */
  body: Buffer;
}

export interface Receiver {
  url: string;
  received: Received[];
  stop(): Promise<void>;
}

/**
 * Stands in for a collector (OTLP/HTTP) or Apollo's usage ingress: takes every POST on
 * 127.0.0.1 and keeps it for the test to read.
 */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Every host this process sends HTTP requests to (fetch and node:http), while watching. */
export function watchOutgoingHosts(): { hosts: Set<string>; stop(): void } {
  const hosts = new Set<string>();
  const onFetch = (message: unknown) => {
    const origin = (message as { request: { origin: string } }).request.origin;
    hosts.add(new URL(origin).hostname);
  };
  const onHttp = (message: unknown) => {
    const request = (message as { request: http.ClientRequest }).request;
    hosts.add(request.host);
  };
  diagnostics.subscribe('undici:request:create', onFetch);
  diagnostics.subscribe('http.client.request.start', onHttp);
  return {
    hosts,
    stop: () => {
      diagnostics.unsubscribe('undici:request:create', onFetch);
      diagnostics.unsubscribe('http.client.request.start', onHttp);
    },
  };
}

/** A pino destination that keeps the JSON lines a logger writes. */
export function logLines(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}
