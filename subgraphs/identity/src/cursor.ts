import { apiError, ErrorCode } from '@renku-supergraph/kit';

/**
 * Keycloak pages users by offset only, so a cursor holds the offset of the
 * next user together with the search it belongs to: a cursor of one search is
 * refused by another.
 */
export function encodeCursor(search: string, offset: number): string {
  return Buffer.from(JSON.stringify(['users', search, offset]), 'utf8').toString('base64url');
}

/** The offset inside a cursor; BAD_USER_INPUT for anything this API did not hand out. */
export function decodeCursor(search: string, cursor: string): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }

  if (
    !Array.isArray(decoded) ||
    decoded.length !== 3 ||
    decoded[0] !== 'users' ||
    decoded[1] !== search ||
    !Number.isInteger(decoded[2]) ||
    decoded[2] < 0 ||
    // base64url decoding skips stray characters; only a cursor that round-trips is ours.
    encodeCursor(search, decoded[2]) !== cursor
  ) {
    throw apiError(ErrorCode.BadUserInput, '`after` is not a cursor of this search', {
      argument: 'after',
    });
  }
  return decoded[2];
}
