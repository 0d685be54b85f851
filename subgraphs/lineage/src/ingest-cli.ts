import { createLogger } from '@renku-supergraph/kit';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { readNeo4jConfig } from './config';
import { applyGraphSchema } from './graph-schema';
import { ingestExport, type Visibility } from './ingest/ingest';
import { readRenkuExport } from './ingest/read';
import { parseMembership, setMembers } from './members';
import { createDriver } from './neo4j';
import { fillVersionCommits } from './webhooks/version-commits';

const usage =
  'usage: ingest-cli --project NAMESPACE/NAME [--visibility public|internal|private] [--name NAME]\n' +
  '                  [--member USERNAME[:owner|maintainer|reader]]...\n' +
  '                  [--repository GIT_DIR [--commit REV]] FILE.jsonld\n' +
  'Loads a renku JSON-LD export into the Neo4j at NEO4J_URI (default bolt://127.0.0.1:7687);\n' +
  "with --member, the given users become the project's members (GitLab membership); with\n" +
  '--repository, the runs and file versions of a renku 2.x export get the commits that made\n' +
  "them, from the history of that repository back from REV (default HEAD), the export's commit.";

async function main(): Promise<void> {
  const log = createLogger('lineage-ingest');
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      project: { type: 'string' },
      visibility: { type: 'string' },
      name: { type: 'string' },
      member: { type: 'string', multiple: true },
      repository: { type: 'string' },
      commit: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.project || positionals.length !== 1) {
    process.stderr.write(`${usage}\n`);
    process.exit(values.help ? 0 : 2);
  }

  const file = positionals[0];
  const document: unknown = JSON.parse(await readFile(file, 'utf8'));
  const driver = createDriver(readNeo4jConfig(process.env));
  try {
    await applyGraphSchema(driver, log);
    const read = await readRenkuExport(document);
    if (values.repository) {
      const commit = values.commit ?? 'HEAD';
      await fillVersionCommits(read.provenance, values.repository, commit, {
        env: process.env,
        timeoutMs: 300_000,
      });
    }
    const summary = await ingestExport(
      driver,
      {
        projectPath: values.project,
        visibility: values.visibility as Visibility | undefined,
        name: values.name,
      },
      read,
    );
    if (values.member) {
      await setMembers(driver, values.project, values.member.map(parseMembership));
    }
    log.info({ file, project: values.project, ...summary }, 'renku metadata ingested');
  } finally {
    await driver.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ingest failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
