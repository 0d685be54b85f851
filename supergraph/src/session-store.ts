import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';

/**
 * Where browser sessions live: in this process by default, in Redis when
 * several gateway replicas must share them. Values are JSON; keys are stored
 * hashed, so that whoever reads the store cannot use a key as a cookie.
 */
export interface SessionStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSec: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

const hashed = (key: string) => createHash('sha256').update(key).digest('base64url');

/** One process only: sessions end with it. */
export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(hashed(key));
    if (!entry) return undefined;
    if (Date.now() >= entry.expiresAt) {
      this.entries.delete(hashed(key));
      return undefined;
    }
    // A copy, so that a caller changing it does not change the stored session.
    return JSON.parse(entry.json) as T;
  }

  async set(key: string, value: unknown, ttlSec: number): Promise<void> {
    this.sweep();
    this.entries.set(hashed(key), {
      json: JSON.stringify(value),
      expiresAt: Date.now() + ttlSec * 1000,
    });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(hashed(key));
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  /** Forgets expired sessions, so that abandoned ones do not pile up. */
  private sweep() {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (now >= entry.expiresAt) this.entries.delete(key);
  }
}

/** Shared by every gateway replica that names the same Redis; Redis expires the entries. */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis;

  constructor(url: string) {
    // Fail a request fast instead of queueing it while Redis is away.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    // ioredis reconnects by itself; without a listener an outage would crash the process.
    this.redis.on('error', () => undefined);
  }

  /** Resolves once connected, so that a wrong REDIS_URL stops start-up. */
  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('end', () => reject(new Error('redis closed the connection')));
      setTimeout(() => reject(new Error('redis did not answer within 10 s')), 10_000).unref();
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const json = await this.redis.get(`renku:session:${hashed(key)}`);
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async set(key: string, value: unknown, ttlSec: number): Promise<void> {
    const seconds = Math.max(1, Math.ceil(ttlSec));
    await this.redis.set(`renku:session:${hashed(key)}`, JSON.stringify(value), 'EX', seconds);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(`renku:session:${hashed(key)}`);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
