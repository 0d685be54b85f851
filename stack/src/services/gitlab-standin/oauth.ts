import type { Logger } from '@renku-supergraph/kit';
import express, { type Request, type Response } from 'express';
import { createHash, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { sameText, type IssuedTokens } from './oauth-grants';
import type { Scope, SeedApplication, SeedUser } from './seed';
import type { GitLabStore } from './store';

/**
 * GitLab's OAuth 2 and OpenID Connect provider, as far as an identity broker such as Keycloak
 * uses it: discovery, signing keys, the authorization code flow with a sign-in form for the
 * seed's users, code and refresh-token grants, and userinfo. The access tokens it issues open
 * the REST and GraphQL routes as their user, through `GitLabStore.tokenOwner`.
 */
export function oauthRoutes(
  store: GitLabStore,
  options: { externalUrl?: string; log: Logger },
): express.Router {
  const { log } = options;
  const signing = new SigningKey();
  const router = express.Router();
  const form = express.urlencoded({ extended: false });
  const base = (req: Request) =>
    (options.externalUrl ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');

  router.get('/.well-known/openid-configuration', (req, res) => {
    const issuer = base(req);
    res.json({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      jwks_uri: `${issuer}/oauth/discovery/keys`,
      scopes_supported: ['api', 'read_api', 'read_user', 'openid', 'profile', 'email'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claim_types_supported: ['normal'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'name',
        'nickname',
        'preferred_username',
        'email',
        'email_verified',
        'website',
        'profile',
        'picture',
        'groups',
        'groups_direct',
      ],
      code_challenge_methods_supported: ['plain', 'S256'],
    });
  });

  router.get('/oauth/discovery/keys', (_req, res) => {
    res.json({ keys: [signing.jwk] });
  });

  router.get('/oauth/authorize', (req, res) => {
    const request = readAuthorization(store, req.query);
    if (request.kind === 'refused') return void res.status(400).type('html').send(request.page);
    if (request.kind === 'redirect') return void res.redirect(302, request.location);
    res.type('html').send(signInPage(request.params));
  });

  // The sign-in form posts back here; the request's parameters travel in hidden fields and are
  // checked again, since the browser could have changed them.
  router.post('/oauth/authorize', form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const request = readAuthorization(store, body);
    if (request.kind === 'refused') return void res.status(400).type('html').send(request.page);
    if (request.kind === 'redirect') return void res.redirect(302, request.location);

    const user = signIn(store, body['user[login]'], body['user[password]']);
    if (!user) {
      res.status(401).type('html').send(signInPage(request.params, 'Invalid login or password.'));
      return;
    }
    const { params, application, scopes } = request;
    const code = store.oauth.issueCode({
      application,
      userId: user.id,
      scopes,
      redirectUri: params.redirect_uri,
      authTime: Math.floor(Date.now() / 1000),
      nonce: params.nonce || undefined,
      codeChallenge: params.code_challenge || undefined,
      codeChallengeMethod: params.code_challenge ? readChallengeMethod(params) : undefined,
    });
    log.debug({ clientId: application.clientId, user: user.username }, 'OAuth code issued');
    res.redirect(302, withQuery(params.redirect_uri, { code, state: params.state }));
  });

  router.post('/oauth/token', form, express.json(), (req, res) => {
    res.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
    const body = (req.body ?? {}) as Record<string, unknown>;
    const application = authenticateClient(store, req, body);
    if (!application) {
      res.status(401).json({
        error: 'invalid_client',
        error_description:
          'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
      });
      return;
    }

    let issued: (IssuedTokens & { authTime?: number; nonce?: string }) | undefined;
    if (body.grant_type === 'authorization_code') {
      const code = typeof body.code === 'string' ? body.code : '';
      const pending = store.oauth.redeemCode(
        code,
        application.clientId,
        body.redirect_uri,
        body.code_verifier,
      );
      if (pending) {
        issued = {
          ...store.oauth.issueTokens(application.clientId, pending.userId, pending.scopes),
          authTime: pending.authTime,
          nonce: pending.nonce,
        };
      }
    } else if (body.grant_type === 'refresh_token') {
      const refreshToken = typeof body.refresh_token === 'string' ? body.refresh_token : '';
      issued = store.oauth.refresh(refreshToken, application.clientId);
      if (issued) log.debug({ clientId: application.clientId }, 'OAuth tokens refreshed');
    } else {
      res.status(400).json({
        error: 'unsupported_grant_type',
        error_description:
          'The authorization grant type is not supported by the authorization server.',
      });
      return;
    }
    if (!issued) {
      res.status(400).json({
        error: 'invalid_grant',
        error_description:
          'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
      });
      return;
    }

    const user = store.userById(issued.userId)!;
    res.json({
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      refresh_token: issued.refreshToken,
      scope: issued.scopes.join(' '),
      created_at: issued.createdAt,
      ...(issued.scopes.includes('openid')
        ? {
            id_token: signing.sign({
              iss: base(req),
              sub: String(user.id),
              aud: application.clientId,
              exp: issued.createdAt + 120,
              iat: issued.createdAt,
              auth_time: issued.authTime ?? issued.createdAt,
              ...(issued.nonce ? { nonce: issued.nonce } : {}),
              email: user.email,
              email_verified: true,
              groups_direct: directGroups(store, user),
            }),
          }
        : {}),
    });
  });

  const userinfo = (req: Request, res: Response) => {
    const token = req.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const caller = token ? store.tokenOwner(token) : undefined;
    if (!caller) {
      res
        .status(401)
        .json({ error: 'invalid_token', error_description: 'The access token is invalid' });
      return;
    }
    if (!caller.scopes.includes('openid')) {
      res.status(403).json({
        error: 'insufficient_scope',
        error_description:
          'The request requires higher privileges than provided by the access token.',
      });
      return;
    }
    const { user } = caller;
    const web = base(req);
    res.json({
      sub: String(user.id),
      name: user.name,
      nickname: user.username,
      preferred_username: user.username,
      email: user.email,
      email_verified: true,
      website: '',
      profile: `${web}/${user.username}`,
      picture: `${web}/uploads/-/system/user/avatar/${user.id}/avatar.png`,
      groups: store.groupPaths(user),
    });
  };
  router.get('/oauth/userinfo', userinfo);
  router.post('/oauth/userinfo', userinfo);

  return router;
}

interface AuthorizationParams {
  client_id: string;
  redirect_uri: string;
  response_type: string;
  scope: string;
  state: string;
  nonce: string;
  code_challenge: string;
  code_challenge_method: string;
}

type AuthorizationRequest =
  | { kind: 'refused'; page: string }
  | { kind: 'redirect'; location: string }
  | {
      kind: 'ok';
      params: AuthorizationParams;
      application: SeedApplication;
      scopes: Scope[];
    };

/**
 * Checks an authorization request as Doorkeeper does: an unknown client or a redirect URI the
 * application did not register is shown an error page (sending the browser there would make
 * GitLab an open redirector); other mistakes go back to the client as `error=...`.
 */
function readAuthorization(store: GitLabStore, raw: unknown): AuthorizationRequest {
  const source = (raw ?? {}) as Record<string, unknown>;
  const text = (name: keyof AuthorizationParams) =>
    typeof source[name] === 'string' ? (source[name] as string) : '';
  const params: AuthorizationParams = {
    client_id: text('client_id'),
    redirect_uri: text('redirect_uri'),
    response_type: text('response_type'),
    scope: text('scope'),
    state: text('state'),
    nonce: text('nonce'),
    code_challenge: text('code_challenge'),
    code_challenge_method: text('code_challenge_method'),
  };

  const application = store.application(params.client_id);
  if (!application) {
    return {
      kind: 'refused',
      page: errorPage('Client authentication failed due to unknown client.'),
    };
  }
  if (!application.redirectUris.some((uri) => redirectMatches(params.redirect_uri, uri))) {
    return {
      kind: 'refused',
      page: errorPage('The redirect URI included is not valid.'),
    };
  }

  const back = (error: string, description: string) => ({
    kind: 'redirect' as const,
    location: withQuery(params.redirect_uri, {
      error,
      error_description: description,
      state: params.state,
    }),
  });
  if (params.response_type !== 'code') {
    return back(
      'unsupported_response_type',
      'The authorization server does not support this response type.',
    );
  }
  const scopes = params.scope.split(/\s+/).filter(Boolean) as Scope[];
  if (scopes.length === 0 || !scopes.every((scope) => application.scopes.includes(scope))) {
    return back('invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
  }
  if (params.code_challenge && readChallengeMethod(params) === undefined) {
    return back('invalid_request', 'The code challenge method must be plain or S256.');
  }
  return { kind: 'ok', params, application, scopes: [...new Set(scopes)] };
}

function readChallengeMethod(params: AuthorizationParams): 'S256' | 'plain' | undefined {
  const method = params.code_challenge_method || 'plain';
  return method === 'S256' || method === 'plain' ? method : undefined;
}

/**
 * Exact match, except that the port of a loopback IP address may differ (RFC 8252, section
 * 7.3), which GitLab allows as Doorkeeper does.
 */
function redirectMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  if (!URL.canParse(requested)) return false;
  const a = new URL(requested);
  const b = new URL(registered);
  const loopback = (url: URL) => url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (!loopback(a) || !loopback(b)) return false;
  a.port = '';
  b.port = '';
  return a.href === b.href;
}

function signIn(store: GitLabStore, login: unknown, password: unknown): SeedUser | undefined {
  if (typeof login !== 'string' || typeof password !== 'string') return undefined;
  const user = store.userByLogin(login);
  if (!user?.password) return undefined;
  return sameText(password, user.password) ? user : undefined;
}

/**
 * `client_secret_basic` (RFC 6749, section 2.3.1: both parts form-encoded) or
 * `client_secret_post`.
 */
function authenticateClient(
  store: GitLabStore,
  req: Request,
  body: Record<string, unknown>,
): SeedApplication | undefined {
  let clientId: unknown = body.client_id;
  let secret: unknown = body.client_secret;
  const basic = req.get('authorization')?.match(/^Basic\s+(\S+)\s*$/i)?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
  }
  if (typeof clientId !== 'string' || typeof secret !== 'string') return undefined;
  const application = store.application(clientId);
  return application && sameText(secret, application.secret) ? application : undefined;
}

/** Groups the user is a member of in their own right (`groups_direct` of the ID token). */
function directGroups(store: GitLabStore, user: SeedUser): string[] {
  return store.groupPaths(user).filter((path) => {
    const parent = path.split('/').slice(0, -1).join('/');
    return parent === '' || !store.groupPaths(user).includes(parent);
  });
}

function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) {
    if (value) url.searchParams.set(name, value);
  }
  return url.href;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GitLab's sign-in page, reduced to its form (field names as GitLab's): the stand-in keeps no
 * browser session, so every authorization asks for the password, and its applications count as
 * trusted ones, which GitLab authorizes without a consent page.
 */
function signInPage(params: AuthorizationParams, alert?: string): string {
  const hidden = Object.entries(params)
    .filter(([, value]) => value !== '')
    .map(
      ([name, value]) =>
        `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    )
    .join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · GitLab stand-in</title></head>
<body>
  <h1>GitLab stand-in</h1>
  ${alert ? `<p class="flash-alert" role="alert">${escapeHtml(alert)}</p>` : ''}
  <form id="new_user" class="gl-show-field-errors" action="/oauth/authorize" method="post">
    ${hidden}
    <label for="user_login">Username or primary email</label>
    <input type="text" id="user_login" name="user[login]" autocomplete="username" autofocus>
    <label for="user_password">Password</label>
    <input type="password" id="user_password" name="user[password]" autocomplete="current-password">
    <button type="submit" name="button">Sign in</button>
  </form>
</body>
</html>
`;
}

function errorPage(message: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>An error has occurred · GitLab stand-in</title></head>
<body><h1>An error has occurred</h1><p>${escapeHtml(message)}</p></body>
</html>
`;
}

/** An RSA key made per start; ID tokens are signed with it and `/oauth/discovery/keys` shows it. */
class SigningKey {
  private readonly privateKey: KeyObject;
  readonly jwk: Record<string, string>;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    // RFC 7638 thumbprint as key id: stable for the key, new with every start.
    const kid = createHash('sha256')
      .update(JSON.stringify({ e, kty: 'RSA', n }))
      .digest('base64url');
    this.jwk = { kty: 'RSA', kid, e, n, use: 'sig', alg: 'RS256' };
  }

  sign(claims: Record<string, unknown>): string {
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const input = `${encode({ typ: 'JWT', kid: this.jwk.kid, alg: 'RS256' })}.${encode(claims)}`;
    const signature = createSign('RSA-SHA256').update(input).sign(this.privateKey, 'base64url');
    return `${input}.${signature}`;
  }
}
