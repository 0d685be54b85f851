// Loads packages from the repository's own node_modules, never from bench/node_modules:
// Hive Gateway brings its own copy of graphql, and two copies of graphql in one process
// refuse each other's schemas.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const rootRequire = createRequire(path.join(repoRoot, 'package.json'));
