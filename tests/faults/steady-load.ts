/**
 * A few clients that send one query in a loop and keep every answer, to see outages from
 * outside.
 */

export interface GraphQLAnswer {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface Observed {
  /** What the test was doing when the request left: the label of its current step. */
  phase: string;
  sentAt: number;
  answeredAt: number;
  /** 0 when no HTTP answer came at all. */
  status: number;
  body?: GraphQLAnswer;
}

export interface SteadyLoadOptions {
  url: string;
  query: string;
  variables: Record<string, unknown>;
  clients: number;
  /** Read before every request, so that a renewed token takes effect at once. */
  headers: () => Record<string, string>;
}

export class SteadyLoad {
  readonly answers: Observed[] = [];
  phase = 'warm-up';
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly options: SteadyLoadOptions) {
    this.loops = Array.from({ length: options.clients }, () => this.loop());
  }

  /** The answers to requests sent at or after `since` (a `performance.now()` time). */
  sentSince(since: number): Observed[] {
    return this.answers.filter((answer) => answer.sentAt >= since);
  }

  /** Resolves once `count` answers to requests sent after `since` have arrived. */
  async waitForAnswers(since: number, count: number, timeoutMs = 60_000): Promise<Observed[]> {
    return this.waitFor(() => {
      const answers = this.sentSince(since);
      return answers.length >= count ? answers : undefined;
    }, timeoutMs);
  }

  /** Resolves with the first answer sent after `since` that `accept` takes. */
  async waitForAnswer(
    since: number,
    accept: (answer: Observed) => boolean,
    timeoutMs = 120_000,
  ): Promise<Observed> {
    return this.waitFor(() => this.sentSince(since).find(accept), timeoutMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async waitFor<T>(found: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const result = found();
      if (result !== undefined) return result;
      if (performance.now() > deadline) throw new Error(`no such answer in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async loop(): Promise<void> {
    const body = JSON.stringify({ query: this.options.query, variables: this.options.variables });
    while (this.running) {
      const phase = this.phase;
      const sentAt = performance.now();
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.options.headers() },
          body,
          signal: AbortSignal.timeout(60_000),
        });
        const answer = (await response.json()) as GraphQLAnswer;
        this.answers.push({
          phase,
          sentAt,
          answeredAt: performance.now(),
          status: response.status,
          body: answer,
        });
      } catch {
        this.answers.push({ phase, sentAt, answeredAt: performance.now(), status: 0 });
        // Do not spin while the gateway itself is unreachable.
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}
