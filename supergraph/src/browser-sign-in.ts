import { apiError, backendError, ErrorCode, type Logger } from '@renku-supergraph/kit';
import type { Express, Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import type * as OpenIdClient from 'openid-client' with { 'resolution-mode': 'import' };

import type { SessionStore } from './session-store';

// openid-client is ESM only. Node 24 loads it with require(); TypeScript's node16
// module setting would refuse the static import that compiles to that call.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const oidc = require('openid-client') as typeof OpenIdClient;

export interface BrowserSignInOptions {
  /** The issuer tokens name (the public Keycloak address). */
  issuer: string;
  /** The same realm at the address the gateway reaches it (may equal `issuer`). */
  internalIssuer: string;
  clientId: string;
  clientSecret: string;
  /** The gateway's address as browsers see it; the callback is `<publicUrl>/auth/callback`. */
  publicUrl: string;
  /**
   * Mark the cookie `Secure`. Default true: browsers accept it from http://localhost too;
   * only a gateway reached over plain HTTP under another name needs it off.
   */
  secureCookie: boolean;
  /** Refresh the access token this long before it expires (at most half its lifetime). */
  refreshMarginSec: number;
  store: SessionStore;
  log: Logger;
}

/** What the store holds per signed-in browser; the browser holds only the key. */
interface BrowserSession {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshAt: number;
  /** When Keycloak ends the session unless it is refreshed. */
  endsAt: number;
}

/** A sign-in on its way through Keycloak, keyed by its `state`. */
interface PendingSignIn {
  codeVerifier: string;
  returnTo: string;
}

export const sessionCookie = 'renku_session';
const signInCookie = 'renku_sign_in';
/** How long a browser may take on Keycloak's login form. */
const signInTtlSec = 600;

/**
 * Browser sign-in at the gateway: authorization code with PKCE against the
 * realm, tokens kept server-side in the session store, the browser holding
 * only a random session key in an HttpOnly cookie.
 */
export class BrowserSignIn {
  private readonly refreshing = new Map<string, Promise<BrowserSession | undefined>>();

  private constructor(
    private readonly options: BrowserSignInOptions,
    private readonly client: OpenIdClient.Configuration,
  ) {}

  /**
   * Reads the realm's discovery document from the internal address. Endpoints
   * the gateway calls itself are moved to the internal address; those the
   * browser visits (authorization, logout) keep the public one.
   */
  static async create(options: BrowserSignInOptions): Promise<BrowserSignIn> {
    const issuer = options.issuer.replace(/\/+$/, '');
    const internal = options.internalIssuer.replace(/\/+$/, '');
    const response = await fetch(`${internal}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) {
      throw new Error(`keycloak answered ${response.status} for the discovery document`);
    }
    const metadata = (await response.json()) as OpenIdClient.ServerMetadata;
    if (metadata.issuer !== issuer) {
      throw new Error(`keycloak names issuer ${metadata.issuer}, expected ${issuer}`);
    }
    const backchannel = (url: string | undefined) =>
      url?.startsWith(`${issuer}/`) ? `${internal}${url.slice(issuer.length)}` : url;
    const server: OpenIdClient.ServerMetadata = {
      ...metadata,
      token_endpoint: backchannel(metadata.token_endpoint),
      userinfo_endpoint: backchannel(metadata.userinfo_endpoint),
      jwks_uri: backchannel(metadata.jwks_uri),
      revocation_endpoint: backchannel(metadata.revocation_endpoint),
      introspection_endpoint: backchannel(metadata.introspection_endpoint),
    };

    const client = new oidc.Configuration(
      server,
      options.clientId,
      undefined,
      oidc.ClientSecretPost(options.clientSecret),
    );
    if (server.token_endpoint?.startsWith('http:')) oidc.allowInsecureRequests(client);
    return new BrowserSignIn(options, client);
  }

  /** `/auth/login`, `/auth/callback` and `/auth/logout`. */
  routes(app: Express): void {
    app.get('/auth/login', (req, res) => this.login(req, res).catch((e) => this.fail(res, e)));
    app.get('/auth/callback', (req, res) =>
      this.callback(req, res).catch((e) => this.fail(res, e)),
    );
    app.get('/auth/logout', (req, res) => this.logout(req, res).catch((e) => this.fail(res, e)));
  }

  /**
   * The access token of the browser's session, refreshed when it is about to
   * expire. Undefined when the request has no session cookie; UNAUTHENTICATED
   * when it names a session that has ended.
   */
  async accessToken(req: Request): Promise<string | undefined> {
    const key = cookiesOf(req)[sessionCookie];
    if (!key) return undefined;

    let session: BrowserSession | undefined;
    try {
      session = await this.options.store.get<BrowserSession>(key);
    } catch (error) {
      this.options.log.error({ err: error }, 'the session store failed');
      throw backendError('the session store', error);
    }
    if (session && Date.now() >= session.refreshAt) {
      session = await this.refreshShared(key, session);
    }
    if (!session) {
      throw apiError(ErrorCode.Unauthenticated, 'the session has ended; sign in again');
    }
    return session.accessToken;
  }

  private async login(req: Request, res: Response) {
    const state = oidc.randomState();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    await this.options.store.set(
      `sign-in:${state}`,
      { codeVerifier, returnTo: localPath(req.query.returnTo) } satisfies PendingSignIn,
      signInTtlSec,
    );

    const url = oidc.buildAuthorizationUrl(this.client, {
      redirect_uri: this.callbackUrl(),
      scope: 'openid profile email',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    // Ties the answer to this browser: a callback another browser was lured into carries no cookie.
    this.setCookie(res, signInCookie, state, signInTtlSec, '/auth/callback');
    res.redirect(302, url.href);
  }

  private async callback(req: Request, res: Response) {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const pending = state
      ? await this.options.store.get<PendingSignIn>(`sign-in:${state}`)
      : undefined;
    res.clearCookie(signInCookie, { path: '/auth/callback' });
    if (!pending || cookiesOf(req)[signInCookie] !== state) {
      res.status(400).json({ error: 'this sign-in is unknown or has expired; start again' });
      return;
    }
    await this.options.store.delete(`sign-in:${state}`);

    const current = new URL(req.originalUrl, this.options.publicUrl);
    const tokens = await oidc.authorizationCodeGrant(this.client, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: state,
      idTokenExpected: true,
    });

    const key = randomBytes(32).toString('base64url');
    const session = toSession(tokens, this.options.refreshMarginSec);
    await this.options.store.set(key, session, ttlOf(session));
    this.setCookie(res, sessionCookie, key, ttlOf(session), '/');
    this.options.log.info({ sub: tokens.claims()?.sub }, 'browser signed in');
    res.redirect(302, pending.returnTo);
  }

  /** Forgets the session here and sends the browser to Keycloak to end it there too. */
  private async logout(req: Request, res: Response) {
    const key = cookiesOf(req)[sessionCookie];
    const session = key ? await this.options.store.get<BrowserSession>(key) : undefined;
    if (key) await this.options.store.delete(key);
    res.clearCookie(sessionCookie, { path: '/' });

    const done = new URL(localPath(req.query.returnTo), this.options.publicUrl).href;
    if (!session?.idToken) {
      res.redirect(302, done);
      return;
    }
    const url = oidc.buildEndSessionUrl(this.client, {
      id_token_hint: session.idToken,
      post_logout_redirect_uri: done,
    });
    res.redirect(302, url.href);
  }

  /** Concurrent requests of one browser share one refresh: Keycloak may rotate refresh tokens. */
  private refreshShared(key: string, session: BrowserSession) {
    let running = this.refreshing.get(key);
    if (!running) {
      running = this.refresh(key, session).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, running);
    }
    return running;
  }

  private async refresh(key: string, session: BrowserSession) {
    if (!session.refreshToken) return Date.now() < session.expiresAt ? session : undefined;
    try {
      const tokens = await oidc.refreshTokenGrant(this.client, session.refreshToken);
      const renewed = toSession(tokens, this.options.refreshMarginSec, session);
      await this.options.store.set(key, renewed, ttlOf(renewed));
      return renewed;
    } catch (error) {
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
        // Keycloak ended the session (logout elsewhere, idle timeout): so do we.
        await this.options.store.delete(key);
        return undefined;
      }
      this.options.log.error({ err: error }, 'refreshing a browser session failed');
      throw backendError('keycloak', error);
    }
  }

  private callbackUrl() {
    return new URL('/auth/callback', this.options.publicUrl).href;
  }

  private setCookie(res: Response, name: string, value: string, ttlSec: number, path: string) {
    res.cookie(name, value, {
      httpOnly: true,
      secure: this.options.secureCookie,
      sameSite: 'lax',
      path,
      maxAge: ttlSec * 1000,
    });
  }

  /** What went wrong stays in the log; the browser learns only that sign-in failed. */
  private fail(res: Response, error: unknown) {
    this.options.log.error({ err: error }, 'browser sign-in failed');
    if (!res.headersSent) res.status(502).json({ error: 'sign-in with Keycloak failed' });
  }
}

function toSession(
  tokens: OpenIdClient.TokenEndpointResponse & OpenIdClient.TokenEndpointResponseHelpers,
  marginSec: number,
  previous?: BrowserSession,
): BrowserSession {
  const now = Date.now();
  const lifetimeMs = (tokens.expiresIn() ?? 60) * 1000;
  const refreshExpiresIn = Number((tokens as { refresh_expires_in?: unknown }).refresh_expires_in);
  return {
    accessToken: tokens.access_token,
    // Keycloak may or may not hand out a new refresh (or ID) token on refresh.
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    idToken: tokens.id_token ?? previous?.idToken,
    expiresAt: now + lifetimeMs,
    refreshAt: now + lifetimeMs - Math.min(marginSec * 1000, lifetimeMs / 2),
    endsAt:
      Number.isFinite(refreshExpiresIn) && refreshExpiresIn > 0
        ? now + refreshExpiresIn * 1000
        : now + lifetimeMs,
  };
}

function ttlOf(session: BrowserSession) {
  return Math.max(1, Math.ceil((session.endsAt - Date.now()) / 1000));
}

/**
 * Only a path of this site: an absolute URL would make the gateway an open redirector. Without
 * one, the GraphQL endpoint, where Sandbox opens in a browser (the gateway serves nothing at `/`).
 */
function localPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/graphql';
}

function cookiesOf(req: Request): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) cookies[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return cookies;
}
