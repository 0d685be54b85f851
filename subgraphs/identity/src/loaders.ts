import DataLoader from 'dataloader';

import type { KeycloakAdmin, KeycloakUser } from './keycloak-admin';

export interface UserLoaders {
  byId: DataLoader<string, KeycloakUser | null>;
  byUsername: DataLoader<string, KeycloakUser | null>;
  /** Puts users already fetched (a search page) into both loaders. */
  remember(users: KeycloakUser[]): void;
}

/** Keycloak's admin API has no bulk lookup, so a batch becomes this many parallel requests at most. */
const parallel = 8;

/** Per request: a user asked for twice (by id and by username) is fetched once. */
export function createUserLoaders(admin: KeycloakAdmin): UserLoaders {
  const remember = (users: KeycloakUser[]) => {
    for (const user of users) {
      byId.prime(user.id, user);
      byUsername.prime(user.username, user);
    }
  };
  const found = (users: (KeycloakUser | Error | null)[]) => {
    remember(
      users.filter((user): user is KeycloakUser => user !== null && !(user instanceof Error)),
    );
    return users;
  };

  const byId: DataLoader<string, KeycloakUser | null> = new DataLoader(async (ids) =>
    found(await settle(ids, (id) => admin.userById(id))),
  );
  const byUsername: DataLoader<string, KeycloakUser | null> = new DataLoader(
    async (usernames) => found(await settle(usernames, (name) => admin.userByUsername(name))),
    { cacheKeyFn: (username) => username.toLowerCase() },
  );

  return { byId, byUsername, remember };
}

/** Each key's own answer or error, in key order, with a bounded number in flight. */
async function settle<T>(
  keys: readonly string[],
  fetchOne: (key: string) => Promise<T>,
): Promise<(T | Error)[]> {
  const results: (T | Error)[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const index = next++;
      try {
        results[index] = await fetchOne(keys[index]);
      } catch (error) {
        results[index] = error instanceof Error ? error : new Error(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, keys.length) }, worker));
  return results;
}
