import { canRead, type Viewer } from './authorize';

const anonymous: Viewer = { kind: 'anonymous' };
const ada: Viewer = { kind: 'user', username: 'ada.analyst' };

describe('who may read a project', () => {
  it('lets anyone read a public project', () => {
    expect(canRead(anonymous, { visibility: 'public' })).toBe(true);
  });

  it('lets signed-in users read an internal project, not anonymous callers', () => {
    expect(canRead(ada, { visibility: 'internal' })).toBe(true);
    expect(canRead(anonymous, { visibility: 'internal' })).toBe(false);
  });

  it('lets only members read a private project', () => {
    expect(canRead(ada, { visibility: 'private', member: true })).toBe(true);
    expect(canRead(ada, { visibility: 'private', member: false })).toBe(false);
    expect(canRead(anonymous, { visibility: 'private', member: true })).toBe(false);
  });

  it('treats a project without a visibility as private', () => {
    expect(canRead(ada, { visibility: null })).toBe(false);
  });
});
