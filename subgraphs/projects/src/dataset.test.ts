import { createLogger } from '@renku-supergraph/kit';

import { toDataset, toPerson } from './dataset';

const log = createLogger('projects-test', 'silent');

describe('toDataset', () => {
  it('maps a complete node', () => {
    const dataset = toDataset(
      {
        projectPath: 'ada.analyst/flights',
        id: 'https://localhost/datasets/abc',
        identifier: 'abc',
        name: 'Flights',
        slug: 'flights',
        description: 'Delays',
        keywords: ['flights', 7],
        license: 'https://creativecommons.org/publicdomain/zero/1.0/',
        sameAs: 'https://doi.org/10.7910/DVN/WTZS4K',
        derivedFrom: null,
        initialVersion: 'abc',
        version: '1',
        createdAt: '2020-10-09T07:57:32.588Z',
        publishedAt: null,
        modifiedAt: null,
        creators: [{ name: 'Curie, Cora', email: null, affiliation: 'ETH' }, { name: null }],
        tags: [
          { name: 'v2', date: '2021-01-01T00:00:00.000Z', description: null },
          { name: 'v1', date: null, description: 'first' },
        ],
      },
      log,
    );

    expect(dataset).toEqual({
      key: { projectPath: 'ada.analyst/flights', id: 'https://localhost/datasets/abc' },
      projectPath: 'ada.analyst/flights',
      identifier: 'abc',
      name: 'Flights',
      slug: 'flights',
      description: 'Delays',
      creators: [{ name: 'Curie, Cora', email: null, affiliation: 'ETH' }],
      keywords: ['flights'],
      license: 'https://creativecommons.org/publicdomain/zero/1.0/',
      sameAs: 'https://doi.org/10.7910/DVN/WTZS4K',
      derivedFrom: null,
      initialVersion: 'abc',
      version: '1',
      created: new Date('2020-10-09T07:57:32.588Z'),
      published: null,
      modified: null,
      tags: [
        { name: 'v1', date: null, description: 'first' },
        { name: 'v2', date: new Date('2021-01-01T00:00:00.000Z'), description: null },
      ],
      origin: 'https://doi.org/10.7910/DVN/WTZS4K',
    });
  });

  it('falls back to the identifier for name and first version, and for the origin', () => {
    const dataset = toDataset({ projectPath: 'a/b', id: '/datasets/x', identifier: 'x' }, log);

    expect(dataset).toMatchObject({ name: 'x', initialVersion: 'x', origin: 'x', creators: [] });
  });
});

describe('toPerson', () => {
  it('names a person by e-mail when the name is missing, and skips nobody', () => {
    expect(toPerson({ email: 'ada@example.org' })).toEqual({
      name: 'ada@example.org',
      email: 'ada@example.org',
      affiliation: null,
    });
    expect(toPerson({})).toBeNull();
  });
});
