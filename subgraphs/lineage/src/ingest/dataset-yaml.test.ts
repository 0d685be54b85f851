import { readFileSync } from 'node:fs';
import path from 'node:path';

import { readDatasetYaml } from './dataset-yaml';
import { readRenkuExport } from './read';

const fixture = readFileSync(
  path.resolve(__dirname, '../../../../tests/projects/fixtures/old-datasets-v0.9.1.metadata.yml'),
  'utf8',
);
const datasetId = 'https://localhost/datasets/7f7cbaac-1b7c-4f1b-a8d3-37c3f1964c6b';
const fileId =
  'https://localhost/blob/3c89105ce8098f3176aabc2ddf8dcf5d040ea0f0/data/201901_us_flights_1/2019-01-flights.csv.zip';

describe('readDatasetYaml on the renku 0.9.1 dataset', () => {
  it('turns it into a document the common reading takes, with one dataset and its file', async () => {
    const { document } = readDatasetYaml(fixture);
    const read = await readRenkuExport(document);

    expect(read.datasets).toHaveLength(1);
    const [dataset] = read.datasets;
    expect(dataset).toMatchObject({
      id: datasetId,
      identifier: '7f7cbaac-1b7c-4f1b-a8d3-37c3f1964c6b',
      name: '2019-01 US Flights',
      slug: '201901_us_flights_1',
      keywords: ['Computer and Information Science', 'flight data', 'software tutorial data'],
      createdAt: '2020-10-09T07:57:32.588Z',
      sameAs: 'https://doi.org/10.7910/DVN/WTZS4K',
      derivedFrom: null,
      parts: [
        {
          fileId,
          addedAt: '2020-10-09T07:57:37.939Z',
          invalidatedAt: null,
          source: 'https://dataverse.harvard.edu/api/access/datafile/3661033',
        },
      ],
    });
    expect(dataset.description).toMatch(/^Flight data from the US Department of Transportation/);
    expect(read.provenance.files).toEqual([
      expect.objectContaining({
        id: fileId,
        path: 'data/201901_us_flights_1/2019-01-flights.csv.zip',
      }),
    ]);
    expect(read.project?.name).toBe('old-datasets-v0.9.1');
  });

  it('gives a creator without e-mail the same lasting identifier every time', async () => {
    const first = await readRenkuExport(readDatasetYaml(fixture).document);
    const second = await readRenkuExport(readDatasetYaml(fixture).document);

    const [creatorId] = first.datasets[0].creatorIds;
    expect(creatorId).toMatch(/^urn:renku-supergraph:person:[0-9a-f]{32}$/);
    expect(second.datasets[0].creatorIds).toEqual([creatorId]);
    expect(first.persons).toContainEqual({ id: creatorId, name: 'Curie, Cora', email: null });
    expect(first.project?.creatorIds).toEqual(['mailto:bo.builder@example.org']);
  });

  it('keeps license, version, tag and affiliation apart for the second write', () => {
    const { extras } = readDatasetYaml(fixture);

    expect(extras).toEqual({
      id: datasetId,
      license: 'https://creativecommons.org/publicdomain/zero/1.0/',
      version: '1',
      initialVersion: '7f7cbaac-1b7c-4f1b-a8d3-37c3f1964c6b',
      tags: [
        {
          name: '1',
          date: '2020-10-09T07:57:38.045Z',
          description: 'Tag 1 created by renku import',
          commit: '3c89105ce8098f3176aabc2ddf8dcf5d040ea0f0',
        },
      ],
      affiliations: [{ personId: expect.stringMatching(/^urn:/), affiliation: 'ETH Zürich' }],
    });
  });

  it.each([
    ['text that is not YAML', 'a: [b'],
    ['YAML that is no dataset', 'name: x\n'],
  ])('refuses %s with BAD_USER_INPUT', (_label, text) => {
    expect(() => readDatasetYaml(text)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });
});
