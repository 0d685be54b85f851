import { buildSchema, graphql } from 'graphql';

import type { Caller } from './auth';
import { authenticate, callerOf, failRootFieldsOnBadToken, requireCaller } from './auth-context';
import { apiError, ErrorCode } from './errors';

const ada: Caller = { id: '1', username: 'ada.analyst', roles: [], token: 't' };
const refused = apiError(ErrorCode.Unauthenticated, 'the access token has expired; sign in again');

describe('the caller in a context', () => {
  it('keeps a verified caller', async () => {
    const context = await authenticate(async () => ada, 'Bearer t');

    expect(callerOf(context)).toBe(ada);
    expect(requireCaller(context)).toBe(ada);
  });

  it('keeps a refused token as the failure every asking field answers with', async () => {
    const context = await authenticate(async () => {
      throw refused;
    }, 'Bearer t');

    expect(context.caller).toBeUndefined();
    expect(() => callerOf(context)).toThrow(refused);
    expect(() => requireCaller(context)).toThrow(refused);
  });

  it('lets anonymous callers through callerOf but not requireCaller', async () => {
    const context = await authenticate(async () => undefined, undefined);

    expect(callerOf(context)).toBeUndefined();
    expect(() => requireCaller(context, 'list users')).toThrow('sign in to list users');
  });

  it('fails every root field on a refused token, before its resolver reads the caller', async () => {
    const schema = failRootFieldsOnBadToken(buildSchema('type Query { who: String }'));
    const rootValue = {
      who: (_: unknown, context: { caller?: Caller }) => context.caller?.username ?? 'anonymous',
    };

    const anonymous = await graphql({ schema, source: '{ who }', rootValue, contextValue: {} });
    const bad = await graphql({
      schema,
      source: '{ who }',
      rootValue,
      contextValue: { authFailure: refused },
    });

    expect(anonymous.data).toEqual({ who: 'anonymous' });
    expect(bad.data).toEqual({ who: null });
    expect(bad.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
