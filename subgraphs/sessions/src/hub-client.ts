/**
 * JupyterHub's REST API as the sessions subgraph uses it: users named after their Keycloak
 * username, one named server per session. Knows nothing of GraphQL or of callers.
 */
import { fetchWithin } from '@renku-supergraph/kit';

/** What the hub says about one named server. */
export interface HubServer {
  name: string;
  /** Started and answering through the proxy. */
  ready: boolean;
  /** `spawn`, `stop`, `check` or `rename` while the hub is busy with the server. */
  pending: string | null;
  /** Neither running nor pending; a failed start ends here too. */
  stopped: boolean;
  started: Date | null;
  /** The server's path behind the public proxy, e.g. `/user/ada.analyst/zhbikes-1a2b3c4d5e/`. */
  path: string;
  /** What the server was started with: the strings the sessions subgraph chose. */
  options: Record<string, string>;
  /** Names of the environment variables it was started with; their values stay at the hub. */
  environment: string[];
}

/** One event of a start's progress stream. */
export interface ProgressEvent {
  progress?: number;
  message?: string;
  /** The spawner's step (`checkout`, `server`, `connect`); absent in the hub's own events. */
  step?: string;
  ready?: boolean;
  failed?: boolean;
  url?: string;
}

/** The hub answered, but not with what was asked for. */
export class HubError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`JupyterHub answered ${status}: ${message}`);
    this.name = 'HubError';
  }
}

/** The hub did not answer at all. */
export class HubUnreachable extends Error {
  constructor(cause: unknown) {
    super(`JupyterHub is not reachable: ${String(cause)}`, { cause });
    this.name = 'HubUnreachable';
  }
}

export interface HubClientOptions {
  /** The REST API, e.g. `http://127.0.0.1:8081/hub/api`. */
  apiUrl: string;
  /** A token of a hub service with the scopes `admin:users` and `servers`. */
  token: string;
  /** How long one request may take, default 10 s. */
  timeoutMs?: number;
}

export type StartOutcome = 'ready' | 'pending';

export class HubClient {
  private readonly apiUrl: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(options: HubClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Answers when the hub does; its version is not secret. */
  async version(): Promise<string> {
    const body = (await this.json('GET', '/')) as { version: string };
    return body.version;
  }

  /** The hub's view of our own token: fails when the hub does not accept it. */
  async whoami(): Promise<{ name: string; scopes: string[] }> {
    return (await this.json('GET', '/user')) as { name: string; scopes: string[] };
  }

  /** Creates the hub user unless it exists. */
  async ensureUser(username: string): Promise<void> {
    const exists = await this.request('GET', userPath(username));
    if (exists.ok) return;
    if (exists.status !== 404) throw await failure(exists);

    const created = await this.request('POST', userPath(username));
    // 409: created in the meantime by a concurrent start.
    if (!created.ok && created.status !== 409) throw await failure(created);
  }

  /** Every named server of the user, stopped ones included; none for an unknown user. */
  async servers(username: string): Promise<HubServer[]> {
    const response = await this.request(
      'GET',
      `${userPath(username)}?include_stopped_servers=true`,
    );
    if (response.status === 404) return [];
    if (!response.ok) throw await failure(response);
    const user = (await response.json()) as { servers?: Record<string, RawServer> };
    return Object.values(user.servers ?? {})
      .filter((raw) => raw.name !== '')
      .map(toServer);
  }

  async server(username: string, name: string): Promise<HubServer | undefined> {
    const response = await this.request('GET', serverPath(username, name));
    if (response.status === 404) return undefined;
    if (!response.ok) throw await failure(response);
    return toServer((await response.json()) as RawServer);
  }

  /**
   * Asks the hub to start a named server. `pending` (202) means the hub accepted the start and
   * reports how it ends on the server and its progress stream.
   */
  async start(
    username: string,
    name: string,
    options: Record<string, unknown>,
  ): Promise<StartOutcome> {
    const response = await this.request('POST', serverPath(username, name), {
      user_options: options,
    });
    if (response.status === 201) return 'ready';
    if (response.status === 202) return 'pending';
    throw await failure(response);
  }

  /**
   * Stops a named server and, with `remove`, forgets it (the spawner deletes its working
   * folder). `stopping` means the hub goes on in the background.
   */
  async stop(
    username: string,
    name: string,
    remove: boolean,
  ): Promise<'stopped' | 'stopping' | 'absent'> {
    const response = await this.request('DELETE', serverPath(username, name), { remove });
    if (response.status === 404) return 'absent';
    if (response.status === 202) return 'stopping';
    if (response.ok) return 'stopped';
    throw await failure(response);
  }

  /**
   * The progress of a start as the hub streams it: the spawner's steps, then one event with
   * `ready` or `failed`. For a start that already failed, only that last event.
   */
  async *progress(
    username: string,
    name: string,
    signal?: AbortSignal,
  ): AsyncGenerator<ProgressEvent> {
    const controller = new AbortController();
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    // The stream stays open as long as the start takes; only its beginning has a deadline.
    const deadline = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${serverPath(username, name)}/progress`, {
        headers: { authorization: `token ${this.token}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
    } catch (error) {
      throw new HubUnreachable(error);
    } finally {
      clearTimeout(deadline);
    }
    if (!response.ok || !response.body) throw await failure(response);

    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        // Server-sent events are separated by a blank line; the hub sends blank keep-alives.
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (data) yield JSON.parse(data) as ProgressEvent;
        }
      }
    } finally {
      controller.abort();
    }
  }

  /**
   * The events of a start in progress so far: the stream is read until it has been quiet for
   * `quietMs`, as it stays open until the start ends. Empty when no start is in progress.
   */
  async progressSoFar(username: string, name: string, quietMs = 400): Promise<ProgressEvent[]> {
    const events: ProgressEvent[] = [];
    const stop = new AbortController();
    const stream = this.progress(username, name, stop.signal);
    try {
      for (;;) {
        const next = stream.next();
        // Left pending when the stream goes quiet; it rejects once the request is aborted.
        next.catch(() => undefined);
        // The first event may take as long as any answer; later ones come at once or not yet.
        const wait = events.length === 0 ? this.timeoutMs : quietMs;
        let timer: NodeJS.Timeout | undefined;
        const quiet = new Promise<'quiet'>((resolve) => {
          timer = setTimeout(() => resolve('quiet'), wait);
        });
        const result = await Promise.race([next, quiet]).finally(() => clearTimeout(timer));
        if (result === 'quiet' || result.done) break;
        events.push(result.value);
        if (result.value.ready || result.value.failed) break;
      }
    } catch (error) {
      if (error instanceof HubError && (error.status === 400 || error.status === 404)) return [];
      throw error;
    } finally {
      stop.abort();
    }
    return events;
  }

  /**
   * Why the last start of a stopped server failed, as the spawner put it; undefined when it
   * did not fail, or when the hub restarted since and has forgotten.
   */
  async failure(username: string, name: string): Promise<string | undefined> {
    try {
      for await (const event of this.progress(username, name)) {
        return event.failed ? event.message : undefined;
      }
    } catch (error) {
      // 400: not starting and not failed; 404: nothing to report.
      if (error instanceof HubError && (error.status === 400 || error.status === 404)) {
        return undefined;
      }
      throw error;
    }
    return undefined;
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.request(method, path, body);
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetchWithin(
        `${this.apiUrl}${path}`,
        {
          method,
          headers: {
            authorization: `token ${this.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        this.timeoutMs,
      );
    } catch (error) {
      throw new HubUnreachable(error);
    }
  }
}

interface RawServer {
  name: string;
  ready: boolean;
  pending: string | null;
  stopped: boolean;
  started: string | null;
  url: string;
  user_options: Record<string, unknown> | null;
}

function toServer(raw: RawServer): HubServer {
  const options: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.user_options ?? {})) {
    if (typeof value === 'string') options[key] = value;
  }
  const environment = raw.user_options?.environment;
  return {
    name: raw.name,
    environment:
      environment && typeof environment === 'object' ? Object.keys(environment).sort() : [],
    ready: raw.ready,
    pending: raw.pending,
    stopped: raw.stopped,
    started: raw.started ? new Date(raw.started) : null,
    path: raw.url,
    options,
  };
}

function userPath(username: string): string {
  return `/users/${encodeURIComponent(username)}`;
}

function serverPath(username: string, name: string): string {
  return `${userPath(username)}/servers/${encodeURIComponent(name)}`;
}

/** The hub's JSON error body carries a readable message; anything else is quoted briefly. */
async function failure(response: Response): Promise<HubError> {
  const text = await response.text().catch(() => '');
  let message = text.slice(0, 200);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not JSON: keep the text.
  }
  return new HubError(response.status, message || response.statusText);
}
