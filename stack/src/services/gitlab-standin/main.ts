#!/usr/bin/env node
// Runs the GitLab stand-in alone, as docker-compose.yml does.
import { createLogger, readPort, readString, stopOnSignal } from '@renku-supergraph/kit';

import { defaultSeedFile } from './seed';
import { serveGitLabStandin } from './server';

const log = createLogger('gitlab-standin');

serveGitLabStandin({
  port: readPort(process.env, 'PORT', 8929),
  host: readString(process.env, 'HOST', '127.0.0.1'),
  seedFile: readString(process.env, 'GITLAB_STANDIN_SEED', defaultSeedFile),
  log,
}).then(
  (running) => stopOnSignal(running, log),
  (error: unknown) => {
    log.fatal({ err: error }, 'the GitLab stand-in did not start');
    process.exit(1);
  },
);
