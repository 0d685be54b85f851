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
