import { defaultFieldResolver, GraphQLError, type GraphQLSchema } from 'graphql';

import type { Caller, TokenVerifier } from './auth';
import { apiError, ErrorCode } from './errors';

/**
 * Who is calling, as a subgraph's context holds it: a verified caller, nobody
 * (no credentials), or the reason the credentials did not verify.
 */
export interface Authenticated {
  /** Undefined for an anonymous request and for one whose token did not verify. */
  caller?: Caller;
  /** Why the token did not verify (UNAUTHENTICATED, or BACKEND_UNAVAILABLE for Keycloak). */
  authFailure?: GraphQLError;
}

/**
 * Verifies the request's Authorization header for a context function. It never
 * throws for a bad token: thrown from a context function, Apollo Server would
 * answer HTTP 500. The failure is kept instead and every field that asks for
 * the caller fails with it (see callerOf), so a bad token is never served as
 * anonymous either.
 */
export async function authenticate(
  verify: TokenVerifier,
  authorization: string | undefined,
): Promise<Authenticated> {
  try {
    return { caller: await verify(authorization) };
  } catch (error) {
    if (error instanceof GraphQLError) return { authFailure: error };
    throw error;
  }
}

/** The verified caller, undefined when anonymous; throws the failure of a bad token. */
export function callerOf(context: Authenticated): Caller | undefined {
  if (context.authFailure) throw context.authFailure;
  return context.caller;
}

/** The verified caller; UNAUTHENTICATED for anonymous requests: "sign in to <action>". */
export function requireCaller(context: Authenticated, action = 'do this'): Caller {
  const caller = callerOf(context);
  if (!caller) throw apiError(ErrorCode.Unauthenticated, `sign in to ${action}`);
  return caller;
}

/**
 * Makes every root field (and so every entity of `_entities`) fail with the
 * context's `authFailure` before its resolver runs: for subgraphs whose
 * resolvers read `context.caller` directly, so that a bad token is never
 * served as anonymous. Changes the schema in place and returns it.
 */
export function failRootFieldsOnBadToken(schema: GraphQLSchema): GraphQLSchema {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  for (const type of roots) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context: Authenticated, info) => {
        callerOf(context);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
