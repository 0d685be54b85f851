import { anonymous, canSee, visibleTo } from './visibility';

describe('visibility for anonymous callers', () => {
  it('shows public projects only', () => {
    expect(canSee(anonymous, { visibility: 'public' })).toBe(true);
    expect(canSee(anonymous, { visibility: 'internal' })).toBe(false);
    expect(canSee(anonymous, { visibility: 'private' })).toBe(false);
  });

  it('gives Cypher the same rule', () => {
    expect(visibleTo(anonymous)).toEqual(['public']);
  });
});

describe('visibility for signed-in callers', () => {
  const ada = { kind: 'user', username: 'ada.analyst', email: 'ada.analyst@example.org' } as const;

  it('shows public and internal projects, and private ones to nobody yet', () => {
    expect(canSee(ada, { visibility: 'public' })).toBe(true);
    expect(canSee(ada, { visibility: 'internal' })).toBe(true);
    expect(canSee(ada, { visibility: 'private' })).toBe(false);
    expect(visibleTo(ada)).toEqual(['public', 'internal']);
  });
});
