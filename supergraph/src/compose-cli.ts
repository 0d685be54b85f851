#!/usr/bin/env node
// Builds supergraph/supergraph.graphql from rover.yaml; `--check` only
// reports whether the committed file is current.
import fs from 'node:fs';
import path from 'node:path';

import { composeSupergraph, readRoverConfig } from './compose';

const root = path.resolve(__dirname, '..', '..');
const target = path.join(root, 'supergraph', 'supergraph.graphql');
const check = process.argv.includes('--check');

try {
  const sdl = composeSupergraph(readRoverConfig(path.join(root, 'rover.yaml')));
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (check) {
    if (sdl !== current) {
      console.error('supergraph/supergraph.graphql is stale: run `npm run compose`');
      process.exit(1);
    }
    console.log('supergraph/supergraph.graphql is current');
  } else if (sdl !== current) {
    fs.writeFileSync(target, sdl);
    console.log('wrote supergraph/supergraph.graphql');
  } else {
    console.log('supergraph/supergraph.graphql is already current');
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
