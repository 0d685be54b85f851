import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A proxy in front of one backend that counts what passes through it. */
export interface CountingProxy {
  /** Where clients connect instead of the backend (`bolt://…` or `http://…`). */
  url: string;
  /** What was counted since the last reset. */
  count(): number;
  reset(): void;
  stop(): Promise<void>;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** Bolt's RUN message: the signature byte after a structure marker (0xB0 | field count). */
const boltRun = 0x10;
/** The client opens with a 4-byte preamble and four 4-byte version proposals. */
const boltHandshakeBytes = 20;
/** A server answering this version asks for manifest negotiation (Bolt 5.7+). */
const boltManifestV1 = 0x000001ff;

/**
 * Counts Cypher queries on their way to Neo4j: every RUN message a client sends
 * (auto-commit or inside a transaction), read from Bolt's chunked framing
 * (https://neo4j.com/docs/bolt/current/bolt/message/#chunking).
 */
export async function countBoltQueries(neo4jUrl: string): Promise<CountingProxy> {
  const target = new URL(neo4jUrl);
  let runs = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 7687), target.hostname);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);

    // With a manifest the client answers the server's offer with its choice: a 4-byte
    // version, then its capabilities as a variable-length integer.
    let manifest: boolean | undefined;
    let choiceLeft = 4;
    let inVarInt = true;
    const serverFirst: number[] = [];
    upstream.on('data', (data: Buffer) => {
      if (manifest !== undefined) return;
      serverFirst.push(...data.subarray(0, 4 - serverFirst.length));
      if (serverFirst.length === 4)
        manifest = Buffer.from(serverFirst).readUInt32BE() === boltManifestV1;
    });

    // The framing is parsed a byte at a time: chunk headers may be split across packets.
    let skip = boltHandshakeBytes;
    let header: number[] = [];
    let chunkLeft = 0;
    let messageOffset = 0;
    client.on('data', (data: Buffer) => {
      for (const byte of data) {
        if (skip > 0) {
          skip -= 1;
        } else if (manifest && (choiceLeft > 0 || inVarInt)) {
          if (choiceLeft > 0) choiceLeft -= 1;
          else inVarInt = (byte & 0x80) !== 0;
        } else if (chunkLeft > 0) {
          // Byte 1 of a message is its signature (byte 0 the structure marker).
          if (messageOffset === 1 && byte === boltRun) runs += 1;
          messageOffset += 1;
          chunkLeft -= 1;
        } else {
          header.push(byte);
          if (header.length === 2) {
            chunkLeft = (header[0] << 8) | header[1];
            // A zero-size chunk ends the message.
            if (chunkLeft === 0) messageOffset = 0;
            header = [];
          }
        }
      }
    });
  });

  const port = await listen(server);
  return {
    url: `bolt://127.0.0.1:${port}`,
    count: () => runs,
    reset: () => {
      runs = 0;
    },
    stop: closer(server, sockets),
  };
}

/** What the proxy answers itself instead of the backend: a status and a JSON body. */
export interface ProxyAnswer {
  status: number;
  body: string;
}

/**
 * Counts HTTP requests on their way to a backend; `matches` picks which ones count. Requests
 * for which `answerHere` gives an answer get that one instead (a backend without that route,
 * or one answering oddly).
 */
export async function countHttpRequests(
  backendUrl: string,
  matches: (method: string, path: string) => boolean = () => true,
  answerHere: (method: string, path: string) => ProxyAnswer | undefined = () => undefined,
): Promise<CountingProxy & { requests: () => string[] }> {
  const target = new URL(backendUrl);
  let seen: string[] = [];
  const sockets = new Set<net.Socket>();

  const server = http.createServer((request, response) => {
    const path = request.url ?? '/';
    if (matches(request.method ?? 'GET', path)) seen.push(`${request.method} ${path}`);
    const answer = answerHere(request.method ?? 'GET', path);
    if (answer) {
      request.resume();
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
      return;
    }
    const forwarded = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path,
        headers: { ...request.headers, host: target.host },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = await listen(server);
  const base = target.pathname.replace(/\/+$/, '');
  return {
    url: `http://127.0.0.1:${port}${base}`,
    count: () => seen.length,
    requests: () => [...seen],
    reset: () => {
      seen = [];
    },
    stop: closer(server, sockets),
  };
}
