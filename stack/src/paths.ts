import path from 'node:path';

/** The checkout this package lives in. */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** The ignored folder that provisioned services live in (`RENKU_CACHE_DIR`). */
export const cacheDir = process.env.RENKU_CACHE_DIR ?? path.join(repoRoot, '.cache');
