import { anonymous, canSee, memberOf, visibleTo, type Caller } from './visibility';

const project = (visibility: 'public' | 'internal' | 'private', path = 'ada.analyst/p') => ({
  visibility,
  path,
});

describe('visibility for anonymous callers', () => {
  it('shows public projects only', () => {
    expect(canSee(anonymous, project('public'))).toBe(true);
    expect(canSee(anonymous, project('internal'))).toBe(false);
    expect(canSee(anonymous, project('private'))).toBe(false);
  });

  it('gives Cypher the same rule', () => {
    expect(visibleTo(anonymous)).toEqual(['public']);
    expect(memberOf(anonymous)).toEqual([]);
  });
});

describe('visibility for signed-in callers', () => {
  const ada: Caller = {
    kind: 'user',
    username: 'ada.analyst',
    email: 'ada.analyst@example.org',
    memberOf: ['ada.analyst/private-one'],
  };

  it('shows public and internal projects, and private ones to their members', () => {
    expect(canSee(ada, project('public'))).toBe(true);
    expect(canSee(ada, project('internal'))).toBe(true);
    expect(canSee(ada, project('private', 'ada.analyst/private-one'))).toBe(true);
    expect(canSee(ada, project('private', 'bob.builder/secret'))).toBe(false);
    expect(visibleTo(ada)).toEqual(['public', 'internal']);
    expect(memberOf(ada)).toEqual(['ada.analyst/private-one']);
  });
});
