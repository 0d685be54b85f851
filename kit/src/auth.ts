import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type JWTPayload,
} from 'jose';

import { readInteger, readString, readUrl } from './config';
import { apiError, backendError, ErrorCode } from './errors';

/** The verified user behind a request. */
export interface Caller {
  /** The token's subject: the Keycloak user id. */
  id: string;
  username: string;
  name?: string;
  email?: string;
  /** Realm roles, e.g. `renku-admin`. */
  roles: string[];
  /** The verified access token, for calls on the caller's behalf. Never log it. */
  token: string;
}

export interface TokenVerifierOptions {
  /** The issuer that tokens must name, e.g. `http://127.0.0.1:8080/realms/renku`. */
  issuer: string;
  /**
   * Where the signing keys are fetched. Default `<issuer>/protocol/openid-connect/certs`;
   * set it when services reach Keycloak at another address than browsers do.
   */
  jwksUrl?: string;
  /** The audience that tokens must name: this API's own, not Keycloak's default `account`. */
  audience: string;
  /** Allowed clock skew for `exp` and `nbf`. Default 30 seconds. */
  clockToleranceSec?: number;
  /**
   * The clients (`azp`) whose tokens this API takes. Default `renku-cli` and
   * `renku-gateway`: a token another client of the realm obtained for a user
   * is not a request of ours, even when it names our audience.
   */
  allowedClients?: string[];
  /**
   * The least time between two fetches of the key set. A token naming a key
   * the cached set lacks (Keycloak rotated its keys) triggers a fetch, so
   * this bounds what forged `kid`s can make us send to Keycloak. Default 60 s.
   */
  keyRefetchCooldownSec?: number;
  /** How long a fetched key set counts as fresh before it is fetched again. Default 600 s. */
  keyCacheMaxAgeSec?: number;
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Caller | undefined>;

/**
 * Asymmetric algorithms only: `none` and HMAC (whose key a client could know)
 * are refused before any signature is checked.
 */
const algorithms = ['RS256', 'ES256'];

/**
 * Verifies `Authorization: Bearer <jwt>` against the issuer's published keys.
 * No header means an anonymous caller (undefined); a header that does not
 * verify is an UNAUTHENTICATED error, never a silent fall back to anonymous.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issuer = options.issuer.replace(/\/+$/, '');
  const jwksUrl = new URL(options.jwksUrl ?? `${issuer}/protocol/openid-connect/certs`);
  // jose caches the key set (ten minutes by default) and refetches it earlier when a
  // token names an unknown key, but not within the cooldown of the last fetch.
  const remote = createRemoteJWKSet(jwksUrl, {
    timeoutDuration: 5000,
    cooldownDuration: (options.keyRefetchCooldownSec ?? 60) * 1000,
    cacheMaxAge: (options.keyCacheMaxAgeSec ?? 600) * 1000,
  });
  // While Keycloak cannot be reached, the keys it published last still verify: an outage of
  // the identity provider must not sign everybody out once the cache is stale. A key it no
  // longer publishes (a fetch that succeeded without it) is refused as before, and a key we
  // never saw still needs Keycloak (BACKEND_UNAVAILABLE, not UNAUTHENTICATED).
  const keys = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const known = remote.jwks();
      if (!known || !unreachable(error)) throw error;
      return createLocalJWKSet(known)(header, token).catch(() => {
        throw error;
      });
    }
  };

  return async (authorization) => {
    if (authorization === undefined || authorization.trim() === '') return undefined;

    const match = /^Bearer\s+([A-Za-z0-9\-_.]+)\s*$/i.exec(authorization);
    if (!match) {
      throw apiError(
        ErrorCode.Unauthenticated,
        'the Authorization header must be "Bearer <access token>"',
      );
    }
    const token = match[1];

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: options.clockToleranceSec ?? 30,
      }));
    } catch (error) {
      throw translate(error, options.audience);
    }
    const allowed = options.allowedClients ?? defaultClients;
    if (typeof payload.azp !== 'string' || !allowed.includes(payload.azp)) {
      throw apiError(ErrorCode.Unauthenticated, 'the access token was issued to another client');
    }
    return toCaller(payload, token);
  };
}

const defaultClients = ['renku-cli', 'renku-gateway'];

/** Whether fetching the key set failed for want of an answer (not for what the answer said). */
function unreachable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  // jose's generic code is its "Expected 200 OK" for an HTTP error status.
  return error instanceof errors.JWKSTimeout || error.code === 'ERR_JOSE_GENERIC';
}

function toCaller(payload: JWTPayload, token: string): Caller {
  // Keycloak marks access tokens `Bearer`; ID and refresh tokens must not pass as one.
  if (payload.typ !== undefined && payload.typ !== 'Bearer') {
    throw apiError(ErrorCode.Unauthenticated, 'the token is not an access token');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw apiError(ErrorCode.Unauthenticated, 'the access token names no subject');
  }

  const claim = (name: string) =>
    typeof payload[name] === 'string' && payload[name] !== ''
      ? (payload[name] as string)
      : undefined;
  const realmAccess = payload.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realmAccess?.roles)
    ? realmAccess.roles.filter((role): role is string => typeof role === 'string')
    : [];

  return {
    id: payload.sub,
    username: claim('preferred_username') ?? payload.sub,
    name: claim('name'),
    email: claim('email'),
    roles,
    token,
  };
}

/** Says what is wrong with a token without repeating any of it. */
function translate(error: unknown, audience: string) {
  if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout) {
    return backendError('keycloak', error);
  }
  const unauthenticated = (message: string) => apiError(ErrorCode.Unauthenticated, message);

  if (error instanceof errors.JWTExpired) {
    return unauthenticated('the access token has expired; sign in again');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return unauthenticated(`the access token is not meant for this API (audience ${audience})`);
      case 'iss':
        return unauthenticated('the access token comes from another issuer');
      case 'nbf':
        return unauthenticated('the access token is not valid yet');
      default:
        return unauthenticated(`the access token's "${error.claim}" claim is invalid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return unauthenticated(`the access token must be signed with ${algorithms.join(' or ')}`);
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return unauthenticated('the access token is not signed by the issuer');
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return unauthenticated('the access token is malformed');
  }
  // What is left concerns the key set itself: Keycloak answered with something unusable.
  return backendError('keycloak', error);
}

/**
 * The token settings every subgraph reads the same way:
 * `KEYCLOAK_ISSUER` (default `http://127.0.0.1:8080/realms/renku`), `KEYCLOAK_JWKS_URL`
 * (default `<issuer>/protocol/openid-connect/certs`), `KEYCLOAK_AUDIENCE` (default
 * `renku-supergraph`), `KEYCLOAK_CLOCK_TOLERANCE_SEC` (default 30), `KEYCLOAK_ALLOWED_CLIENTS`
 * (default `renku-cli,renku-gateway`).
 */
export function readTokenVerifierOptions(
  env: Record<string, string | undefined>,
): TokenVerifierOptions {
  return {
    issuer: readUrl(env, 'KEYCLOAK_ISSUER', 'http://127.0.0.1:8080/realms/renku'),
    jwksUrl: env.KEYCLOAK_JWKS_URL ? readUrl(env, 'KEYCLOAK_JWKS_URL') : undefined,
    audience: readString(env, 'KEYCLOAK_AUDIENCE', 'renku-supergraph'),
    clockToleranceSec: readInteger(env, 'KEYCLOAK_CLOCK_TOLERANCE_SEC', 30),
    allowedClients: env.KEYCLOAK_ALLOWED_CLIENTS
      ? env.KEYCLOAK_ALLOWED_CLIENTS.split(',')
          .map((client) => client.trim())
          .filter(Boolean)
      : undefined,
  };
}
