import { parseMembership } from './members';

describe('parseMembership', () => {
  it('reads a username with a role, and a reader without one', () => {
    expect(parseMembership('ada.analyst:owner')).toEqual({
      username: 'ada.analyst',
      role: 'owner',
    });
    expect(parseMembership('bob.builder')).toEqual({ username: 'bob.builder', role: 'reader' });
  });

  it('refuses an unknown role or an empty name', () => {
    expect(() => parseMembership('ada.analyst:admin')).toThrow(/owner, maintainer, reader/);
    expect(() => parseMembership(':owner')).toThrow(/USERNAME/);
  });
});
