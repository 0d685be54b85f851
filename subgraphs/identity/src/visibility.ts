import type { Caller } from '@renku-supergraph/kit';

/** The realm role whose holders see every user's e-mail address. */
export const adminRole = 'renku-admin';

/** An e-mail address is shown to its owner and to administrators only. */
export function mayReadEmail(caller: Caller | undefined, userId: string): boolean {
  if (!caller) return false;
  return caller.id === userId || caller.roles.includes(adminRole);
}

/** First and last name joined; null when the user gave neither. */
export function displayName(firstName?: string, lastName?: string): string | null {
  const name = [firstName, lastName]
    .map((part) => part?.trim())
    .filter(Boolean)
    .join(' ');
  return name === '' ? null : name;
}
