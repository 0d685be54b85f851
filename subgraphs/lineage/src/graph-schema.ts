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
 * Brings the database to the newest schema. Every statement is idempotent (`IF NOT EXISTS`), so
 * two services starting at once cannot break each other; the version node only spares the work
 * on later starts. It records each file applied, not only the highest number: schema files are
 * numbered by several workspaces, and a lower number that lands later must still be applied.
 * Schema changes cannot share a transaction with data writes, hence one per statement.
 */
export async function applyGraphSchema(
  driver: Driver,
  log: Logger,
  /** Other files and version node than the real ones, for tests. */
  options: { dir?: string; graph?: string } = {},
): Promise<number> {
  const steps = await readSchemaSteps(options.dir);
  const graph = options.graph ?? 'renku';
  return withSession(driver, async (session) => {
    const found = await session.executeRead((tx) =>
      tx.run(
        'MATCH (v:SchemaVersion {graph: $graph}) RETURN v.version AS version, v.applied AS applied',
        { graph },
      ),
    );
    const record = found.records[0];
    const version = record?.get('version');
    const highest = version === undefined || version === null ? 0 : neo4j.integer.toNumber(version);
    // Databases from before the list was kept: everything up to the version was applied.
    const applied = new Set<string>(
      (record?.get('applied') as string[] | null | undefined) ??
        steps.filter((step) => step.version <= highest).map((step) => step.file),
    );

    for (const step of steps.filter((s) => !applied.has(s.file))) {
      for (const statement of step.statements) {
        await session.executeWrite((tx) => tx.run(statement));
      }
      applied.add(step.file);
      // A file another service applied meanwhile may be missing from this list; it is then
      // applied again on a later start, which its idempotent statements allow.
      await session.executeWrite((tx) =>
        tx.run(
          `MERGE (v:SchemaVersion {graph: $graph})
           SET v.version = CASE WHEN coalesce(v.version, 0) < $version THEN $version ELSE v.version END,
               v.applied = [file IN $applied WHERE NOT file IN coalesce(v.applied, [])] + coalesce(v.applied, [])`,
          { graph, version: neo4j.int(step.version), applied: [...applied].sort() },
        ),
      );
      log.info({ version: step.version, file: step.file }, 'graph schema step applied');
    }
    return Math.max(highest, ...steps.map((step) => step.version));
  });
}
