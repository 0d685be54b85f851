import { GraphQLError } from 'graphql';

import { decodeCursor, encodeCursor } from './cursor';

describe('cursors', () => {
  it('give back the key they were made from', () => {
    const key = 'group/sub/ünïcode-project';
    expect(decodeCursor('path', encodeCursor('path', key))).toBe(key);
  });

  it('do not show the key in plain text', () => {
    expect(encodeCursor('path', 'ada.analyst/tutorial-zhbikes')).not.toContain('ada.analyst');
  });

  it.each([
    ['garbage', 'not base64 JSON at all!'],
    ['JSON of another shape', Buffer.from('{"path":"a/b"}').toString('base64url')],
    ['another order', Buffer.from('["name","a/b"]').toString('base64url')],
    ['a non-string key', Buffer.from('["path",42]').toString('base64url')],
    ['the empty string', ''],
  ])('refuse %s with BAD_USER_INPUT', (_label, cursor) => {
    const attempt = () => decodeCursor('path', cursor);
    expect(attempt).toThrow(GraphQLError);
    try {
      attempt();
    } catch (error) {
      expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});
