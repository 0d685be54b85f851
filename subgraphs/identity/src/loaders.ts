import DataLoader from 'dataloader';

import { lookupBound, type KeycloakAdmin, type KeycloakUser } from './keycloak-admin';

export interface UserLoaders {
  byId(id: string): Promise<KeycloakUser | null>;
  /** Case-insensitive, as Keycloak stores usernames in lower case. */
  byUsername(username: string): Promise<KeycloakUser | null>;
  /** Puts users already fetched (a search page) into the loader. */
  remember(users: KeycloakUser[]): void;
}

interface UserKey {
  by: 'id' | 'username';
  value: string;
}

/** Without the lookup extension a batch becomes this many parallel requests at most. */
const parallel = 8;

/**
 * Per request (nothing is shared between callers): ids and usernames asked for in the same
 * tick go to Keycloak together, in one lookup call per `lookupBound` keys; a user asked for
 * twice (by id and by username) is fetched once.
 */
export function createUserLoaders(admin: KeycloakAdmin): UserLoaders {
  const loader: DataLoader<UserKey, KeycloakUser | null, string> = new DataLoader(
    async (keys) => {
      const answers = await lookUp(admin, keys);
      remember(answers.filter((user): user is KeycloakUser => !!user && !(user instanceof Error)));
      return answers;
    },
    { cacheKeyFn, maxBatchSize: lookupBound },
  );
  const remember = (users: KeycloakUser[]) => {
    for (const user of users) {
      loader.prime({ by: 'id', value: user.id }, user);
      loader.prime({ by: 'username', value: user.username }, user);
    }
  };

  return {
    byId: (id) => loader.load({ by: 'id', value: id }),
    byUsername: (username) => loader.load({ by: 'username', value: username }),
    remember,
  };
}

function cacheKeyFn(key: UserKey): string {
  return key.by === 'id' ? `id:${key.value}` : `username:${key.value.toLowerCase()}`;
}

/** Each key's user, null or error, in key order. */
async function lookUp(
  admin: KeycloakAdmin,
  keys: readonly UserKey[],
): Promise<(KeycloakUser | null | Error)[]> {
  const ids = keys.filter((key) => key.by === 'id').map((key) => key.value);
  const usernames = keys.filter((key) => key.by === 'username').map((key) => key.value);

  let found: KeycloakUser[] | null;
  try {
    found = await admin.lookupUsers(ids, usernames);
  } catch (error) {
    return keys.map(() => asError(error));
  }
  if (found === null) {
    return settle(keys, ({ by, value }) =>
      by === 'id' ? admin.userById(value) : admin.userByUsername(value),
    );
  }

  const byId = new Map(found.map((user) => [user.id, user]));
  const byUsername = new Map(found.map((user) => [user.username, user]));
  return keys.map(({ by, value }) =>
    by === 'id' ? (byId.get(value) ?? null) : (byUsername.get(value.toLowerCase()) ?? null),
  );
}

/** Each key's own answer or error, in key order, with a bounded number in flight. */
async function settle<K, T>(
  keys: readonly K[],
  fetchOne: (key: K) => Promise<T>,
): Promise<(T | Error)[]> {
  const results: (T | Error)[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const index = next++;
      try {
        results[index] = await fetchOne(keys[index]);
      } catch (error) {
        results[index] = asError(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, keys.length) }, worker));
  return results;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
