import { canSeeProject, type ProjectAccessFacts } from './project-visibility';

describe('who may see a project', () => {
  const cases: [string, boolean, ProjectAccessFacts | undefined, boolean][] = [
    ['a public project to anonymous callers', false, { visibility: 'public' }, true],
    ['an internal project to signed-in users', true, { visibility: 'internal' }, true],
    ['an internal project to anonymous callers', false, { visibility: 'internal' }, false],
    ['a private project to its members', true, { visibility: 'private', member: true }, true],
    ['a private project to non-members', true, { visibility: 'private', member: false }, false],
    [
      'a private project to anonymous callers',
      false,
      { visibility: 'private', member: true },
      false,
    ],
    ['an unknown visibility to non-members', true, { visibility: 'secret' }, false],
    ['a missing visibility to non-members', true, { visibility: null }, false],
    ['a project the graph does not hold', true, undefined, false],
  ];

  it.each(cases)('decides %s', (_, signedIn, project, expected) => {
    expect(canSeeProject(signedIn, project)).toBe(expected);
  });
});
