import { createLogger } from '@renku-supergraph/kit';
import { parseArgs } from 'node:util';

import { readNeo4jConfig } from './config';
import { applyGraphSchema } from './graph-schema';
import { createDriver } from './neo4j';
import { activateLineage } from './webhooks/secrets';

const usage =
  'usage: activate-cli --project NAMESPACE/NAME\n' +
  'Turns on webhook ingestion for the project in the Neo4j at NEO4J_URI and prints its new\n' +
  'webhook secret (shown once; running it again replaces the secret).';

/**
 * For operators: activates a project without a signed-in owner or maintainer, who would use the
 * `activateLineage` mutation (setting up a deployment, or many projects at once).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { project: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || !values.project) {
    process.stderr.write(`${usage}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const driver = createDriver(readNeo4jConfig(process.env));
  try {
    await applyGraphSchema(driver, createLogger('lineage-activate', 'warn'));
    process.stdout.write(`${await activateLineage(driver, values.project)}\n`);
  } finally {
    await driver.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `activation failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
