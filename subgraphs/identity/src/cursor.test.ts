import { decodeCursor, encodeCursor } from './cursor';

describe('user list cursors', () => {
  it('round-trips the offset of a search', () => {
    expect(decodeCursor('ada', encodeCursor('ada', 41))).toBe(41);
  });

  it('refuses a cursor of another search', () => {
    expect(() => decodeCursor('bob', encodeCursor('ada', 3))).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });

  it.each([
    ['not base64 JSON', 'bm90LWEtY3Vyc29y'],
    ['a negative offset', Buffer.from(JSON.stringify(['users', '', -1])).toString('base64url')],
    ['a fractional offset', Buffer.from(JSON.stringify(['users', '', 1.5])).toString('base64url')],
    ['stray characters', `${encodeCursor('', 2)}!!`],
  ])('refuses %s', (_, cursor) => {
    expect(() => decodeCursor('', cursor)).toThrow('`after` is not a cursor of this search');
  });
});
