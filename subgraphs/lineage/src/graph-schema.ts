import type { Logger } from '@renku-supergraph/kit';
import neo4j, { type Driver } from 'neo4j-driver';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { withSession } from './neo4j';

/** `neo4j/schema/` at the root of the checkout, from `src/` and `dist/` alike. */
export const schemaDir = path.resolve(__dirname, '..', '..', '..', 'neo4j', 'schema');

export interface SchemaStep {
  version: number;
  file: string;
  statements: string[];
}

/** The versioned Cypher files (`NNN-what.cypher`), in version order. */
export async function readSchemaSteps(dir = schemaDir): Promise<SchemaStep[]> {
  const files = (await readdir(dir)).filter((file) => /^\d+-.+\.cypher$/.test(file));
  const steps = await Promise.all(
    files.map(async (file) => ({
      version: Number.parseInt(file, 10),
      file,
      statements: splitStatements(await readFile(path.join(dir, file), 'utf8')),
    })),
  );
  return steps.sort((a, b) => a.version - b.version);
}

export function splitStatements(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/**
 * Brings the database to the newest schema version. Every statement is
 * idempotent (`IF NOT EXISTS`), so two services starting at once cannot break
 * each other; the version node only spares the work on later starts. Schema
 * changes cannot share a transaction with data writes, hence one per statement.
 */
export async function applyGraphSchema(driver: Driver, log: Logger): Promise<number> {
  const steps = await readSchemaSteps();
  return withSession(driver, async (session) => {
    const found = await session.executeRead((tx) =>
      tx.run('MATCH (v:SchemaVersion {graph: $graph}) RETURN v.version AS version', {
        graph: 'renku',
      }),
    );
    const current = found.records[0]?.get('version');
    let version = current === undefined || current === null ? 0 : neo4j.integer.toNumber(current);

    for (const step of steps.filter((s) => s.version > version)) {
      for (const statement of step.statements) {
        await session.executeWrite((tx) => tx.run(statement));
      }
      await session.executeWrite((tx) =>
        tx.run(
          `MERGE (v:SchemaVersion {graph: $graph})
           SET v.version = CASE WHEN coalesce(v.version, 0) < $version THEN $version ELSE v.version END`,
          { graph: 'renku', version: neo4j.int(step.version) },
        ),
      );
      version = step.version;
      log.info({ version, file: step.file }, 'graph schema step applied');
    }
    return version;
  });
}
