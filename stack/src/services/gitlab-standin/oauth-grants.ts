import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Scope, SeedApplication } from './seed';

/** What a user allowed an application at `/oauth/authorize`, waiting to be redeemed. */
export interface PendingCode {
  application: SeedApplication;
  userId: number;
  scopes: Scope[];
  redirectUri: string;
  /** Seconds since the epoch: when the user signed in (`auth_time`). */
  authTime: number;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  expiresAt: number;
}

/** An access token and the refresh token that replaces it, as `/oauth/token` answers them. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  userId: number;
  scopes: Scope[];
  /** Seconds. */
  expiresIn: number;
  /** Seconds since the epoch. */
  createdAt: number;
}

interface AccessGrant {
  userId: number;
  scopes: Scope[];
  clientId: string;
  expiresAt: number;
}

interface RefreshGrant {
  userId: number;
  scopes: Scope[];
  clientId: string;
  accessToken: string;
}

/** Doorkeeper's default, which GitLab keeps: a code is good for ten minutes, once. */
const codeLifetimeMs = 10 * 60_000;

/**
 * The OAuth grants of the stand-in, in memory: authorization codes, access tokens with their
 * expiry and refresh tokens, which rotate as GitLab's do (redeeming one revokes it and the
 * access token it came with).
 */
export class OAuthGrants {
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, AccessGrant>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();

  constructor(
    /** Default 7200 s, GitLab's lifetime of OAuth access tokens. */
    readonly accessTokenLifetimeSec = 7200,
  ) {}

  issueCode(grant: Omit<PendingCode, 'expiresAt'>, now = Date.now()): string {
    const code = randomBytes(32).toString('hex');
    this.codes.set(code, { ...grant, expiresAt: now + codeLifetimeMs });
    return code;
  }

  /**
   * The grant of a code, once: by the application it was issued to, with the redirect URI
   * of the authorization request and, when a PKCE challenge was sent, its verifier.
   */
  redeemCode(
    code: string,
    clientId: string,
    redirectUri: unknown,
    verifier: unknown,
    now = Date.now(),
  ): PendingCode | undefined {
    const pending = this.codes.get(code);
    // A code is single-use even when the attempt fails: a guessed or stolen one is burnt.
    this.codes.delete(code);
    if (!pending || pending.expiresAt <= now) return undefined;
    if (pending.application.clientId !== clientId || pending.redirectUri !== redirectUri) {
      return undefined;
    }
    if (pending.codeChallenge !== undefined && !verifies(pending, verifier)) return undefined;
    return pending;
  }

  issueTokens(clientId: string, userId: number, scopes: Scope[], now = Date.now()): IssuedTokens {
    const accessToken = randomBytes(32).toString('hex');
    const refreshToken = randomBytes(32).toString('hex');
    this.accessTokens.set(accessToken, {
      userId,
      scopes,
      clientId,
      expiresAt: now + this.accessTokenLifetimeSec * 1000,
    });
    this.refreshTokens.set(refreshToken, { userId, scopes, clientId, accessToken });
    return {
      accessToken,
      refreshToken,
      userId,
      scopes,
      expiresIn: this.accessTokenLifetimeSec,
      createdAt: Math.floor(now / 1000),
    };
  }

  /** New tokens for a refresh token of this application; the old pair stops working. */
  refresh(refreshToken: string, clientId: string, now = Date.now()): IssuedTokens | undefined {
    const grant = this.refreshTokens.get(refreshToken);
    if (!grant || grant.clientId !== clientId) return undefined;
    this.refreshTokens.delete(refreshToken);
    this.accessTokens.delete(grant.accessToken);
    return this.issueTokens(clientId, grant.userId, grant.scopes, now);
  }

  /** The user and scopes of a live access token; an expired one is forgotten. */
  owner(accessToken: string, now = Date.now()): { userId: number; scopes: Scope[] } | undefined {
    const grant = this.accessTokens.get(accessToken);
    if (!grant) return undefined;
    if (grant.expiresAt <= now) {
      this.accessTokens.delete(accessToken);
      return undefined;
    }
    return { userId: grant.userId, scopes: grant.scopes };
  }
}

function verifies(pending: PendingCode, verifier: unknown): boolean {
  if (typeof verifier !== 'string' || !/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false;
  const expected =
    pending.codeChallengeMethod === 'plain'
      ? verifier
      : createHash('sha256').update(verifier).digest('base64url');
  return sameText(expected, pending.codeChallenge!);
}

/** Compares secrets in constant time. */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
