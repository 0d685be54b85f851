import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readSessionsConfig } from './config';
import { readResourceClasses } from './resource-classes';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resource-classes-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const small = { name: 'small', cpu: 0.5, memoryGb: 1, storageGb: 1, defaultUrl: '/lab' };

describe('readResourceClasses', () => {
  it('reads the committed default through the configuration', () => {
    const config = readSessionsConfig({ JUPYTERHUB_API_TOKEN: 'token' });
    expect(config.resourceClasses.default.name).toBe('small');
    expect(config.resourceClasses.classes.map((resourceClass) => resourceClass.name)).toEqual([
      'small',
      'medium',
      'large',
    ]);
  });

  it('takes the file SESSIONS_RESOURCE_CLASSES_FILE names', () => {
    const file = write('one.json', { default: 'small', classes: [small] });
    const config = readSessionsConfig({
      JUPYTERHUB_API_TOKEN: 'token',
      SESSIONS_RESOURCE_CLASSES_FILE: file,
    });
    expect(config.resourceClasses).toEqual({
      classes: [{ ...small, description: null }],
      default: { ...small, description: null },
    });
  });

  it.each([
    ['not JSON', '{ classes: ', 'cannot be read as JSON'],
    ['no classes', { default: 'small', classes: [] }, 'needs a non-empty list "classes"'],
    [
      'a bad name',
      { default: 'small', classes: [{ ...small, name: 'a b' }] },
      'class 1 needs a name',
    ],
    [
      'no memory',
      { default: 'small', classes: [{ ...small, memoryGb: 0 }] },
      'positive number "memoryGb"',
    ],
    [
      'a relative URL',
      { default: 'small', classes: [{ ...small, defaultUrl: 'lab' }] },
      '"defaultUrl" starting with /',
    ],
    ['a name twice', { default: 'small', classes: [small, small] }, 'class small is defined twice'],
    [
      'an unknown default',
      { default: 'big', classes: [small] },
      '"default" must name one of the classes (small)',
    ],
  ])('stops start-up naming the setting and the file for %s', (_, content, problem) => {
    const file = write('bad.json', content);
    expect(() => readResourceClasses(file)).toThrow(
      `configuration: SESSIONS_RESOURCE_CLASSES_FILE (${file}): `,
    );
    expect(() => readResourceClasses(file)).toThrow(problem);
  });

  it('names a file that does not exist', () => {
    const file = path.join(dir, 'missing.json');
    expect(() =>
      readSessionsConfig({ JUPYTERHUB_API_TOKEN: 'token', SESSIONS_RESOURCE_CLASSES_FILE: file }),
    ).toThrow(`SESSIONS_RESOURCE_CLASSES_FILE (${file}): cannot be read`);
  });
});
