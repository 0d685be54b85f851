#!/usr/bin/env node
// `renku-stack provision` installs the services (with `--deploy-tools` also Helm
// and the schema checks the deployment tests use, with `--redis` Debian's
// redis-server for the tests of several gateway replicas); `renku-stack up` also starts
// the whole stack with the demo data and keeps it running until Ctrl-C.
import path from 'node:path';

import { cacheDir } from './paths';
import { MissingPrerequisite } from './progress';
import { provisionDeployTools } from './services/deploy-tools';
import { provisionRedis } from './services/redis';
import { stopEverySpawned } from './process';
import { provisionStack, startStack, type Stack } from './stack';

async function main(command: string | undefined, options: string[]): Promise<void> {
  if (command !== 'provision' && command !== 'up') {
    throw new Error('usage: renku-stack provision [--deploy-tools] [--redis] | up');
  }
  // From the start: Ctrl-C while services are still starting stops those too.
  let stack: Stack | undefined;
  const stop = async () => {
    process.stderr.write('\nstopping the stack...\n');
    await stack?.stop();
    await stopEverySpawned();
    process.exit(stack ? 0 : 130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  await Promise.all([
    provisionStack(),
    options.includes('--deploy-tools') ? provisionDeployTools() : undefined,
    options.includes('--redis') ? provisionRedis() : undefined,
  ]);
  if (command === 'provision') return;

  stack = await startStack({ ports: 'default', dataDir: path.join(cacheDir, 'stack') });

  process.stdout.write(
    [
      '',
      `Renku Supergraph is running: ${stack.gatewayUrl}`,
      '',
      `  Apollo Sandbox   open ${stack.gatewayUrl} in a browser`,
      `  Keycloak         ${stack.keycloak.url} (realm renku, demo user ada.analyst)`,
      `  JupyterHub       ${stack.jupyterhub.url}`,
      `  GitLab stand-in  ${stack.gitlabUrl}`,
      `  Neo4j (Bolt)     ${stack.neo4jUrl}`,
      `  logs             ${stack.logDir}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main(process.argv[2], process.argv.slice(3)).catch((error: unknown) => {
  const message = error instanceof MissingPrerequisite ? error.message : String(error);
  process.stderr.write(`\u001b[31merror:\u001b[0m ${message}\n`);
  process.exit(1);
});
