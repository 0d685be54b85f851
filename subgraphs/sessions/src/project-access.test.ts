import { canSee } from './project-access';

describe('canSee', () => {
  const cases: [string, boolean, { visibility: string | null; member: boolean }, boolean][] = [
    ['a public project to anonymous callers', false, { visibility: 'public', member: false }, true],
    [
      'an internal project to signed-in users',
      true,
      { visibility: 'internal', member: false },
      true,
    ],
    ['a private project to its members', true, { visibility: 'private', member: true }, true],
  ];
  const refused: typeof cases = [
    [
      'an internal project to anonymous callers',
      false,
      { visibility: 'internal', member: false },
      false,
    ],
    [
      'a private project to signed-in non-members',
      true,
      { visibility: 'private', member: false },
      false,
    ],
    ['an unknown visibility to non-members', true, { visibility: 'secret', member: false }, false],
    ['a missing visibility to non-members', true, { visibility: null, member: false }, false],
  ];

  it.each(cases)('shows %s', (_, signedIn, project, expected) => {
    expect(canSee(signedIn, project)).toBe(expected);
  });

  it.each(refused)('hides %s', (_, signedIn, project, expected) => {
    expect(canSee(signedIn, project)).toBe(expected);
  });

  it('hides a project the graph does not hold', () => {
    expect(canSee(true, undefined)).toBe(false);
  });
});
