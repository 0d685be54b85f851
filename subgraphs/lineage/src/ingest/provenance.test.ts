import { readFileSync } from 'node:fs';
import path from 'node:path';

import { readRenkuExport } from './read';

const tutorial = path.resolve(__dirname, '../../../../demo/tutorial-zhbikes/source.ld.json');
const clean = '/07b64b6cd153cf7988e2f9cca41c58e296f57b75#';

async function read(document: unknown) {
  return (await readRenkuExport(document)).provenance;
}

describe('readProvenance on the tutorial-zhbikes export (renku 0.x)', () => {
  const load = () => read(JSON.parse(readFileSync(tutorial, 'utf8')));

  it('keeps the two process runs and skips plain commits', async () => {
    const { runs } = await load();
    expect(runs.map((run) => run.commandLine).sort()).toEqual([
      'python src/clean_data.py data/zhbikes data/preprocessed/zhbikes.parquet',
      'python src/plot_data.py data/preprocessed/zhbikes.parquet',
    ]);
    const run = runs.find((r) => r.id === clean);
    expect(run).toMatchObject({
      commit: '07b64b6cd153cf7988e2f9cca41c58e296f57b75',
      startedAt: '2018-09-04T10:40:25.000Z',
      personIds: ['mailto:ada.analyst@example.org'],
    });
  });

  it('reads paths and folders from the 0.x identifiers and labels', async () => {
    const { files } = await load();
    const folder = files.find((f) => f.path === 'data/zhbikes');
    expect(folder).toMatchObject({
      isFolder: true,
      commit: 'dda09be8bc7e60201298ad576aa72c5f9ff16bc8',
    });
    expect(files.find((f) => f.path === 'src/clean_data.py')?.isFolder).toBe(false);
    // Plans are workflow files, not data.
    expect(files.some((f) => f.path.endsWith('.cwl'))).toBe(false);
  });

  it('links runs to what they used and generated', async () => {
    const { usages, generations } = await load();
    expect(
      usages
        .filter((u) => u.runId === clean)
        .map((u) => u.fileId)
        .sort(),
    ).toEqual([
      '/01f169f0beac20c7b3646b48df4010a15787adf8/src/clean_data.py',
      '/dda09be8bc7e60201298ad576aa72c5f9ff16bc8/data/zhbikes',
    ]);
    expect(generations.filter((g) => g.runId === clean)).toEqual([
      {
        runId: clean,
        fileId: '/07b64b6cd153cf7988e2f9cca41c58e296f57b75/data/preprocessed/zhbikes.parquet',
        role: 'output_0',
      },
    ]);
  });
});

describe('readProvenance on compacted documents', () => {
  const context = {
    prov: 'http://www.w3.org/ns/prov#',
    renku: 'https://swissdatasciencecenter.github.io/renku-ontology#',
    schema: 'http://schema.org/',
  };

  it('rebuilds the command line from a renku plan and the values the run passed', async () => {
    const { runs, arguments: args } = await read({
      '@context': context,
      '@graph': [
        {
          '@id': '/activities/1',
          '@type': 'prov:Activity',
          'prov:qualifiedAssociation': {
            '@type': 'prov:Association',
            'prov:hadPlan': { '@id': '/plans/1' },
          },
          'renku:parameter': {
            '@type': 'renku:ParameterValue',
            'schema:value': '7',
            'schema:valueReference': { '@id': '/plans/1/parameters/1' },
          },
        },
        {
          '@id': '/plans/1',
          '@type': ['prov:Plan', 'renku:Plan'],
          'renku:command': 'python fit.py',
          'renku:hasInputs': {
            '@id': '/plans/1/inputs/1',
            '@type': 'renku:CommandInput',
            'renku:position': 1,
            'schema:defaultValue': 'data.csv',
          },
          'renku:hasOutputs': {
            '@id': '/plans/1/outputs/1',
            '@type': 'renku:CommandOutput',
            'renku:position': 3,
            'schema:defaultValue': 'model.txt',
            'renku:mappedTo': { '@type': 'renku:IOStream', 'renku:streamType': 'stdout' },
          },
          'renku:hasArguments': {
            '@id': '/plans/1/parameters/1',
            '@type': 'renku:CommandParameter',
            'renku:position': 2,
            'renku:prefix': '--k ',
            'schema:defaultValue': '3',
          },
        },
      ],
    });
    expect(runs[0].commandLine).toBe('python fit.py data.csv --k 7 > model.txt');
    expect(args.find((a) => a.kind === 'output')).toMatchObject({
      position: 3,
      mappedTo: 'stdout',
    });
  });

  it('names the node and property of a dangling reference', async () => {
    await expect(
      read({
        '@context': context,
        '@id': '/activities/2',
        '@type': 'prov:Activity',
        'prov:qualifiedAssociation': {
          '@type': 'prov:Association',
          'prov:hadPlan': { '@id': '/plans/missing' },
        },
      }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(
        /node "\/activities\/2 > _:b\d+", prov:hadPlan: refers to "\/plans\/missing"/,
      ),
      extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', property: 'prov:hadPlan' }),
    });
  });

  it('refuses to fetch a remote context', async () => {
    await expect(
      read({ '@context': 'https://example.org/renku.jsonld', '@id': '/x' }),
    ).rejects.toMatchObject({
      message: expect.stringContaining(
        'remote JSON-LD context "https://example.org/renku.jsonld" refused',
      ),
      extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
    });
  });
});

describe('readRenkuExport on a renku 2.x style export', () => {
  const fixture = path.resolve(
    __dirname,
    '../../../../tests/lineage/fixtures/renku-2x-flights.jsonld',
  );
  const load = () => readRenkuExport(JSON.parse(readFileSync(fixture, 'utf8')));

  it('rebuilds command lines from plans, values the run passed and stream mappings', async () => {
    const { provenance } = await load();
    expect(provenance.runs.map((run) => [run.id, run.commandLine, run.personIds])).toEqual([
      [
        'https://renkulab.io/activities/a1',
        'head -n 3 data/collection/models.csv data/collection/colors.csv > intermediate',
        ['mailto:ada.analyst@example.org'],
      ],
      [
        'https://renkulab.io/activities/a2',
        'tail -n 5 intermediate > results/output.csv',
        ['mailto:ada.analyst@example.org'],
      ],
    ]);
  });

  it('reads generations written from the activity side with @reverse', async () => {
    const { provenance } = await load();
    expect(provenance.generations.map((g) => [g.runId, g.fileId])).toEqual(
      expect.arrayContaining([
        ['https://renkulab.io/activities/a1', 'https://renkulab.io/entities/cc33/intermediate'],
        [
          'https://renkulab.io/activities/a2',
          'https://renkulab.io/entities/dd44/results/output.csv',
        ],
      ]),
    );
    expect(provenance.files.map((f) => [f.path, f.isFolder, f.commit]).sort()).toEqual([
      ['data/collection', true, null],
      ['data/collection/colors.csv', false, null],
      ['data/collection/models.csv', false, null],
      ['intermediate', false, null],
      ['results/output.csv', false, null],
    ]);
  });

  it('reads the project and its datasets', async () => {
    const { project, datasets } = await load();
    expect(project).toEqual({
      name: 'flights',
      description: 'A sample workflow on flight data',
      keywords: ['workflow file', 'v1'],
      createdAt: '2024-03-01T08:00:00.000Z',
      creatorIds: ['mailto:ada.analyst@example.org'],
    });
    expect(datasets).toEqual([
      expect.objectContaining({
        id: 'https://renkulab.io/datasets/d1',
        slug: 'collection',
        keywords: ['cars', 'colours'],
        sameAs: 'https://zenodo.org/record/0000000',
        creatorIds: ['mailto:ada.analyst@example.org'],
        parts: [
          expect.objectContaining({
            fileId: 'https://renkulab.io/entities/aa11/data/collection/models.csv',
            source: 'https://zenodo.org/record/0000000/files/models.csv',
          }),
          expect.objectContaining({
            fileId: 'https://renkulab.io/entities/bb22/data/collection/colors.csv',
          }),
        ],
      }),
    ]);
  });
});
