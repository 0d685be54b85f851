import { createLogger } from '@renku-supergraph/kit';
import neo4j from 'neo4j-driver';

import { isProjectPath, splitPath, toDate, toProject } from './project';

const log = createLogger('projects-test', 'silent');

describe('splitPath', () => {
  it('takes everything before the last slash as the namespace', () => {
    expect(splitPath('group/sub/project')).toEqual({ namespace: 'group/sub', slug: 'project' });
    expect(splitPath('ada.analyst/tutorial-zhbikes')).toEqual({
      namespace: 'ada.analyst',
      slug: 'tutorial-zhbikes',
    });
  });
});

describe('isProjectPath', () => {
  it.each(['a/b', 'group/sub/project'])('accepts %s', (path) => {
    expect(isProjectPath(path)).toBe(true);
  });

  it.each(['', 'lonely', '/b', 'a/', 'a//b', ' /b'])('refuses "%s"', (path) => {
    expect(isProjectPath(path)).toBe(false);
  });
});

describe('toProject', () => {
  it('maps a complete node', () => {
    const project = toProject(
      {
        path: 'group/sub/zhbikes',
        name: 'ZH Bikes',
        slug: 'zhbikes',
        visibility: 'internal',
        description: 'Bicycles in Zurich',
        keywords: ['bikes', 'zurich'],
        createdAt: '2021-03-04T10:15:00+01:00',
        modifiedAt: new neo4j.types.DateTime(2022, 1, 2, 3, 4, 5, 6_000_000, 0),
      },
      log,
    );

    expect(project).toEqual({
      path: 'group/sub/zhbikes',
      name: 'ZH Bikes',
      slug: 'zhbikes',
      namespace: 'group/sub',
      description: 'Bicycles in Zurich',
      visibility: 'internal',
      keywords: ['bikes', 'zurich'],
      created: new Date('2021-03-04T09:15:00Z'),
      modified: new Date('2022-01-02T03:04:05.006Z'),
    });
  });

  it('fills what a sparse node lacks with safe values', () => {
    expect(toProject({ path: 'a/b' }, log)).toEqual({
      path: 'a/b',
      name: 'b',
      slug: 'b',
      namespace: 'a',
      description: null,
      visibility: 'private',
      keywords: [],
      created: null,
      modified: null,
    });
  });

  it('treats an unknown visibility as private', () => {
    expect(toProject({ path: 'a/b', visibility: 'PUBLIC' }, log).visibility).toBe('private');
  });
});

describe('toDate', () => {
  it('reads a zoned Neo4j DateTime', () => {
    const value = new neo4j.types.DateTime(2021, 3, 4, 10, 15, 0, 0, 3600);
    expect(toDate(value, 'a/b', 'createdAt', log)).toEqual(new Date('2021-03-04T09:15:00Z'));
  });

  it('reads ISO strings with microseconds and a zone', () => {
    expect(toDate('2021-03-04T10:15:00.123456+01:00', 'a/b', 'createdAt', log)).toEqual(
      new Date('2021-03-04T09:15:00.123Z'),
    );
  });

  it('reads an ISO string without a zone as UTC', () => {
    expect(toDate('2021-03-04T10:15:00', 'a/b', 'createdAt', log)).toEqual(
      new Date('2021-03-04T10:15:00Z'),
    );
  });

  it.each(['yesterday', '2021-13-45T99:00:00Z', 42])('gives null for %p', (value) => {
    expect(toDate(value, 'a/b', 'createdAt', log)).toBeNull();
  });
});
