import { serverName } from './server-name';

const commit = '5f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b';

describe('serverName', () => {
  it('is the same for the same project, branch and commit', () => {
    const target = { project: 'ada.analyst/tutorial-zhbikes', branch: 'main', commit };
    expect(serverName(target)).toBe(serverName({ ...target }));
    expect(serverName(target)).toMatch(/^tutorial-zhbikes-[0-9a-f]{10}$/);
  });

  it('differs when the namespace, branch or commit differs', () => {
    const names = new Set([
      serverName({ project: 'ada.analyst/zhbikes', commit }),
      serverName({ project: 'bob.builder/zhbikes', commit }),
      serverName({ project: 'ada.analyst/zhbikes', commit, branch: 'main' }),
      serverName({ project: 'ada.analyst/zhbikes', commit, branch: 'dev' }),
      serverName({ project: 'ada.analyst/zhbikes', commit: commit.replace('5f', '6f') }),
    ]);
    expect(names.size).toBe(5);
  });

  it('ignores the letter case of commit ids', () => {
    const lower = serverName({ project: 'a/b', commit });
    expect(serverName({ project: 'a/b', commit: commit.toUpperCase() })).toBe(lower);
  });

  it.each([
    ['group/sub group/Ünïcödé Prøject!'],
    ['ns/../../etc/passwd'],
    ['ns/💥 emoji only 💥'],
    ['ns/?query#fragment%20'],
    ['ns/a-very-long-project-name-that-goes-on-and-on-far-beyond-any-limit'],
    ['ns/---'],
  ])('is short and URL-safe for %j', (project) => {
    const name = serverName({ project, branch: 'feature/odd branch?#', commit });
    expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(name.length).toBeLessThanOrEqual(35);
    expect(encodeURIComponent(name)).toBe(name);
  });

  it('falls back to a neutral slug when nothing of the project name is usable', () => {
    expect(serverName({ project: 'ns/💥', commit })).toMatch(/^session-[0-9a-f]{10}$/);
  });
});
