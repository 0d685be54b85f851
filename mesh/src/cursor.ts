import { ErrorCode, apiError } from '@renku-supergraph/kit';

/**
 * A cursor holds the position of its edge in GitLab's order of the list. GitLab pages by
 * number, so a position is all that is needed to ask for what follows it.
 */
export function encodeCursor(position: number): string {
  return Buffer.from(JSON.stringify(['position', position]), 'utf8').toString('base64url');
}

/** The position inside a cursor; BAD_USER_INPUT for anything this API did not hand out. */
export function decodeCursor(cursor: string): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }

  const position = Array.isArray(decoded) && decoded[0] === 'position' ? decoded[1] : undefined;
  if (
    !Number.isSafeInteger(position) ||
    (position as number) < 0 ||
    // base64url decoding skips stray characters; only a cursor that round-trips is ours.
    encodeCursor(position as number) !== cursor
  ) {
    throw apiError(ErrorCode.BadUserInput, '`after` is not a cursor of this list', {
      argument: 'after',
    });
  }
  return position as number;
}
