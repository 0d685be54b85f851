/**
 * Reading settings from the environment. A bad value stops start-up with a
 * message that names the setting; nothing is silently replaced.
 */
export class ConfigError extends Error {
  constructor(setting: string, problem: string) {
    super(`configuration: ${setting} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function readString(env: Env, name: string, fallback?: string): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(name, 'is required');
}

export function readPort(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(name, `must be a port number from 0 to 65535, not "${raw}"`);
  }
  return port;
}

export function readUrl(env: Env, name: string, fallback?: string): string {
  const value = readString(env, name, fallback);
  try {
    new URL(value);
  } catch {
    throw new ConfigError(name, `must be a URL, not "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, not "${raw}"`);
}

/** A whole number of at least `min` (default 0). */
export function readInteger(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Digits only: Number() would also take `0x10`, `1e3` or `2.0`.
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(name, `must be a whole number of at least ${min}, not "${raw}"`);
  }
  return value;
}
