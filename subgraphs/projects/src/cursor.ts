import { ErrorCode, apiError } from '@renku-supergraph/kit';

/**
 * Cursors name the order they belong to and the sort key of the last edge seen, so paging
 * continues after that key (keyset paging) and stays right while projects are added. A
 * cursor of one order is refused by another: `projects` pages by path, `search` names its
 * sort field and direction.
 */
export function encodeCursor(order: string, key: unknown): string {
  return Buffer.from(JSON.stringify([order, key]), 'utf8').toString('base64url');
}

/** The sort key inside a cursor; BAD_USER_INPUT for anything this API did not hand out. */
export function decodeCursor(order: string, cursor: string): string;
export function decodeCursor<T>(
  order: string,
  cursor: string,
  isKey: (key: unknown) => key is T,
): T;
export function decodeCursor(
  order: string,
  cursor: string,
  isKey: (key: unknown) => boolean = (key) => typeof key === 'string',
): unknown {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }

  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    decoded[0] !== order ||
    !isKey(decoded[1]) ||
    // base64url decoding skips stray characters; only a cursor that round-trips is ours.
    encodeCursor(order, decoded[1]) !== cursor
  ) {
    throw apiError(ErrorCode.BadUserInput, '`after` is not a cursor of this list', {
      argument: 'after',
    });
  }
  return decoded[1];
}
