import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; a repository `<root>/a/b.git` is at `<url>/a/b.git`. */
  url: string;
  /** The Authorization header of every request, as it came (undefined when none). */
  authorizations: (string | undefined)[];
  stop(): Promise<void>;
}

/**
 * Git's smart HTTP protocol over the bare repositories under `root`, through git's own
 * `git http-backend` (a CGI program). With a `token`, only requests that authenticate the way
 * GitLab takes a token are answered: HTTP basic authentication with the token as the password.
 */
export async function startGitHttpServer(root: string, token?: string): Promise<GitHttpServer> {
  const authorizations: (string | undefined)[] = [];
  const expected = token && `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitLab"' });
      res.end('HTTP Basic: Access denied\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const backend = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'oauth2',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
      },
    });
    req.pipe(backend.stdin);
    backend.stdin.on('error', () => undefined);
    // A CGI answer: header lines, an empty line, then the body.
    let head = Buffer.alloc(0);
    let headersSent = false;
    backend.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      headersSent = true;
      res.write(head.subarray(end + 4));
    });
    backend.once('close', () => {
      if (!headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
