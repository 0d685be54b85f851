import {
  apiError,
  callerOf,
  ErrorCode,
  requireCaller,
  type Authenticated,
  type BaseContext,
} from '@renku-supergraph/kit';

import { decodeCursor, encodeCursor } from './cursor';
import type { KeycloakAdmin, KeycloakUser } from './keycloak-admin';
import type { UserLoaders } from './loaders';
import { displayName, mayReadEmail } from './visibility';

/** A token that did not verify fails every field that asks for the caller (callerOf). */
export interface IdentityContext extends BaseContext, Authenticated {
  admin: KeycloakAdmin;
  users: UserLoaders;
}

interface UserReference {
  id?: unknown;
  username?: unknown;
}

const maxPage = 100;

export const resolvers = {
  Query: {
    me: (_: unknown, __: unknown, context: IdentityContext) => {
      const caller = callerOf(context);
      return caller ? context.users.byId(caller.id) : null;
    },

    user: (
      _: unknown,
      args: { id?: string | null; username?: string | null },
      context: IdentityContext,
    ) => {
      callerOf(context);
      const { users } = context;
      const { id, username } = args;
      if ((id == null) === (username == null)) {
        throw apiError(ErrorCode.BadUserInput, 'give exactly one of `id` and `username`');
      }
      return id != null ? users.byId(id) : users.byUsername(username!);
    },

    users: async (
      _: unknown,
      args: { search?: string | null; first?: number | null; after?: string | null },
      context: IdentityContext,
    ) => {
      // Listing everyone is for members only; a single user stays visible to all (a project's
      // owner).
      requireCaller(context, 'list users');
      const { admin, users } = context;

      const first = args.first ?? 20;
      if (!Number.isInteger(first) || first < 1 || first > maxPage) {
        throw apiError(ErrorCode.BadUserInput, `\`first\` must be from 1 to ${maxPage}`, {
          argument: 'first',
        });
      }
      const search = args.search?.trim() ?? '';
      const offset = args.after ? decodeCursor(search, args.after) + 1 : 0;

      // One more than asked tells whether another page follows.
      const [page, totalCount] = await Promise.all([
        admin.searchUsers(search || undefined, offset, first + 1),
        admin.countUsers(search || undefined),
      ]);
      users.remember(page);

      const edges = page.slice(0, first).map((node, index) => ({
        cursor: encodeCursor(search, offset + index),
        node,
      }));
      return {
        edges,
        pageInfo: { hasNextPage: page.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount,
      };
    },
  },

  User: {
    // Async, so that a failure stays with its own representation instead of failing `_entities`.
    __resolveReference: async (reference: UserReference, context: IdentityContext) => {
      callerOf(context);
      const { users } = context;
      if (typeof reference.id === 'string') return users.byId(reference.id);
      if (typeof reference.username === 'string') return users.byUsername(reference.username);
      return null;
    },
    name: (user: KeycloakUser) => displayName(user.firstName, user.lastName),
    email: (user: KeycloakUser, _: unknown, { caller }: IdentityContext) =>
      mayReadEmail(caller, user.id) ? (user.email ?? null) : null,
  },
};
