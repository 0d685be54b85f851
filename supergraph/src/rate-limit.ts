import { HeaderMap } from '@apollo/server';
import { apiError, ErrorCode, type Logger } from '@renku-supergraph/kit';
import type { RequestHandler } from 'express';
import { Redis } from 'ioredis';
import net from 'node:net';

export interface RateLimitOptions {
  /** Requests per minute for one token subject; 0 turns the limit off (default). */
  perUser: number;
  /** Requests per minute for one client address; 0 turns the limit off (default). */
  perAddress: number;
  /** Requests that may arrive at once (the bucket's size). Default: a minute's worth. */
  burst?: number;
  /** Buckets shared by every gateway worker and replica; in this process when absent. */
  redisUrl?: string;
}

interface Bucket {
  /** Tokens added per millisecond. */
  rate: number;
  size: number;
}

/** Where buckets live. `take` spends one token: 0 when granted, else ms until one is back. */
interface Buckets {
  take(key: string, bucket: Bucket): Promise<number>;
  close(): Promise<void>;
}

/**
 * Token buckets per user and per address. A request spends one token; a
 * bucket refills steadily to its size, so a client may burst, then keeps to
 * the rate. The address limit runs before anything is parsed; the user limit
 * runs once the token is verified, so a forged subject cannot spend another's.
 */
export class RateLimits {
  private constructor(
    private readonly buckets: Buckets | undefined,
    private readonly user: Bucket | undefined,
    private readonly address: Bucket | undefined,
  ) {}

  /** `workers`: processes serving the port (GATEWAY_WORKERS), each with its own memory. */
  static async create(options: RateLimitOptions, log: Logger, workers = 1): Promise<RateLimits> {
    const bucket = (perMinute: number): Bucket | undefined =>
      perMinute > 0 ? { rate: perMinute / 60_000, size: options.burst || perMinute } : undefined;
    const user = bucket(options.perUser);
    const address = bucket(options.perAddress);
    if (!user && !address) {
      log.info('rate limits are off: RATE_LIMIT_PER_USER and RATE_LIMIT_PER_ADDRESS are 0');
      return new RateLimits(undefined, undefined, undefined);
    }

    if (workers > 1 && !options.redisUrl) {
      log.warn({ workers }, 'each worker keeps its own rate limits: set REDIS_URL to share them');
    }
    const buckets = options.redisUrl
      ? await RedisBuckets.connect(options.redisUrl, log)
      : new MemoryBuckets();
    log.info(
      { perUser: options.perUser, perAddress: options.perAddress, shared: !!options.redisUrl },
      'rate limits on',
    );
    return new RateLimits(buckets, user, address);
  }

  /** Express middleware for the GraphQL endpoint: 429 once an address spent its bucket. */
  byAddress(): RequestHandler {
    return (req, res, next) => {
      const { buckets, address } = this;
      // A preflight is the browser's, not the caller's: it costs nothing.
      if (!buckets || !address || req.method === 'OPTIONS') return next();
      buckets.take(`address:${addressKey(req.ip ?? '')}`, address).then((waitMs) => {
        if (waitMs === 0) return next();
        const error = limited(waitMs);
        res
          .status(429)
          .setHeader('Retry-After', retryAfter(waitMs))
          .json({ errors: [{ message: error.message, extensions: error.extensions }] });
      }, next);
    };
  }

  /** Spends one of the user's tokens; throws a 429 GraphQLError once they are spent. */
  async checkUser(subject: string | undefined): Promise<void> {
    const { buckets, user } = this;
    if (!buckets || !user || !subject) return;
    const waitMs = await buckets.take(`user:${subject}`, user);
    if (waitMs === 0) return;
    // Apollo Server answers with the status and headers of `extensions.http`.
    throw limited(waitMs, {
      http: { status: 429, headers: new HeaderMap([['retry-after', retryAfter(waitMs)]]) },
    });
  }

  async close(): Promise<void> {
    await this.buckets?.close();
  }
}

function limited(waitMs: number, extensions: Record<string, unknown> = {}) {
  return apiError(
    ErrorCode.RateLimited,
    `too many requests; try again in ${retryAfter(waitMs)} s`,
    { retryAfterSec: Number(retryAfter(waitMs)), ...extensions },
  );
}

function retryAfter(waitMs: number): string {
  return String(Math.max(1, Math.ceil(waitMs / 1000)));
}

/**
 * The key of a client address. An IPv6 client usually holds a whole /64, so
 * its addresses share one bucket; an IPv4 address mapped into IPv6 is the
 * IPv4 address.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!net.isIPv6(ip)) return ip;

  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

class MemoryBuckets implements Buckets {
  private readonly state = new Map<string, { tokens: number; at: number; fullAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    // A full bucket is what a missing one means: dropping those keeps memory
    // bounded by the clients of the last few minutes.
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [key, entry] of this.state) if (entry.fullAt <= now) this.state.delete(key);
    }, 60_000).unref();
  }

  async take(key: string, bucket: Bucket): Promise<number> {
    const now = Date.now();
    const entry = this.state.get(key) ?? { tokens: bucket.size, at: now, fullAt: now };
    entry.tokens = Math.min(bucket.size, entry.tokens + (now - entry.at) * bucket.rate);
    entry.at = now;
    const wait = entry.tokens >= 1 ? 0 : Math.ceil((1 - entry.tokens) / bucket.rate);
    if (wait === 0) entry.tokens -= 1;
    entry.fullAt = now + (bucket.size - entry.tokens) / bucket.rate;
    this.state.set(key, entry);
    return wait;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}

/**
 * The same bucket as one Lua script, so replicas update it atomically, timed
 * by Redis's clock so their clocks need not agree. The key expires once the
 * bucket would be full again.
 */
const takeScript = `
local size = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or size
local at = tonumber(state[2]) or now
tokens = math.min(size, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(size / rate) + 1000)
return wait
`;

type TakeToken = (key: string, size: number, rate: number) => Promise<number>;

class RedisBuckets implements Buckets {
  /** Failures are logged once a minute at most: an outage would otherwise flood the log. */
  private lastWarning = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
  ) {}

  static async connect(url: string, log: Logger): Promise<RedisBuckets> {
    // Fail a request fast instead of queueing it while Redis is away.
    const redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 1000,
      lazyConnect: true,
    });
    // ioredis reconnects by itself; without a listener an outage would crash the process.
    redis.on('error', () => undefined);
    // Sent by its hash (EVALSHA) after the first call.
    redis.defineCommand('takeToken', { numberOfKeys: 1, lua: takeScript });
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`REDIS_URL: ${(error as Error).message}`);
    }
    return new RedisBuckets(redis, log);
  }

  async take(key: string, bucket: Bucket): Promise<number> {
    try {
      const redis = this.redis as Redis & { takeToken: TakeToken };
      return Number(await redis.takeToken(`renku:rate:${key}`, bucket.size, bucket.rate));
    } catch (error) {
      // Letting requests through while Redis is away keeps the API up; the
      // limit is a guard against abuse, not an invariant.
      if (Date.now() - this.lastWarning > 60_000) {
        this.lastWarning = Date.now();
        this.log.warn({ err: error }, 'rate limits are not enforced: Redis does not answer');
      }
      return 0;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
