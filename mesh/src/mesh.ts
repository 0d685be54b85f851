import { getMesh, type GetMeshOptions, type MeshInstance } from '@graphql-mesh/runtime';
import type { Logger } from '@renku-supergraph/kit';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

type MeshLogger = NonNullable<GetMeshOptions['logger']>;
type MeshPlugin = NonNullable<GetMeshOptions['additionalEnvelopPlugins']>[number];

/** The workspace holding `.meshrc.yaml`; the same from `src/` and from `dist/`. */
export const meshDir = path.join(__dirname, '..');
/** What `mesh build` writes: GitLab's REST API as an executable GraphQL schema. */
export const artifactsDir = path.join(meshDir, '.mesh');

/** Where one request to GitLab leaves its response headers, which hold the pagination. */
export interface ResponseRecorder {
  headers?: Headers;
}

/** The context each GitLab call runs with; `.meshrc.yaml` interpolates these fields. */
export interface MeshCallContext {
  gitlabUrl: string;
  /** `Bearer <token>`, or absent: then no Authorization header is sent at all. */
  gitlabAuthorization?: string;
  recorder: ResponseRecorder;
}

/**
 * Runs `mesh build` for this workspace, as `npm run build -w mesh` does before compiling.
 * Offline (the spec is a local file); about 10 s, most of it compiling generated TypeScript.
 */
export async function buildGitLabMesh(log: Logger): Promise<void> {
  // The package exports only its API; its `mesh` command sits beside package.json.
  const cli = path.join(
    path.dirname(require.resolve('@graphql-mesh/cli/package.json')),
    'cjs',
    'bin.js',
  );
  log.info({ artifactsDir }, 'building the GraphQL Mesh artifacts');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, 'build', '--fileType', 'json'],
      { cwd: meshDir, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve();
        reject(new Error(`mesh build failed:\n${stdout}${stderr}`.trimEnd()));
      },
    );
  });
}

/** Whether `mesh build` output exists and is newer than its inputs. */
export function isMeshBuilt(): boolean {
  const built = modified(path.join(artifactsDir, 'index.js'));
  const inputs = [
    path.join(meshDir, '.meshrc.yaml'),
    path.join(meshDir, 'openapi', 'gitlab-v4-subset.yaml'),
  ];
  return built !== undefined && inputs.every((input) => (modified(input) ?? Infinity) <= built);
}

/**
 * Loads the built mesh and adds what the subgraph needs to it: response headers recorded
 * per call (Mesh's OpenAPI handler keeps only the body) and logs that go to our logger.
 */
export async function openGitLabMesh(log: Logger): Promise<MeshInstance> {
  if (!isMeshBuilt()) {
    throw new Error(
      `the GraphQL Mesh artifacts in ${artifactsDir} are missing or older than .meshrc.yaml ` +
        'or the spec: run `npm run build -w mesh` first',
    );
  }
  // A runtime path on purpose: the artifacts exist only after `mesh build`, not at compile time.
  const artifacts = require(artifactsDir) as { getMeshOptions(): Promise<GetMeshOptions> };
  const options = await artifacts.getMeshOptions();

  const logger = meshLogger(log);
  // The generated options give each source a console logger; ours must be set before the
  // sources are loaded, and there is no option for it.
  for (const source of options.sources) {
    (source.handler as unknown as { logger: MeshLogger }).logger = logger.child({
      source: source.name,
    });
  }

  return getMesh({
    ...options,
    logger,
    additionalEnvelopPlugins: [...(options.additionalEnvelopPlugins ?? []), recordResponses()],
  });
}

function recordResponses(): MeshPlugin {
  return {
    onFetch({ context }) {
      const recorder = (context as Partial<MeshCallContext> | undefined)?.recorder;
      return ({ response }) => {
        if (recorder) recorder.headers = response.headers as Headers;
      };
    },
  };
}

/**
 * Mesh's logger interface over pino. Mesh's debug lines include request options, headers and
 * so the token among them: only their text parts are kept.
 */
function meshLogger(log: Logger): MeshLogger {
  const text = (args: unknown[]) =>
    args
      .flat()
      .map((arg) => (typeof arg === 'function' ? (arg as () => unknown)() : arg))
      .filter((arg) => typeof arg === 'string' || typeof arg === 'number')
      .join(' ')
      .trim();
  const errors = (args: unknown[]) => args.find((arg) => arg instanceof Error);

  return {
    log: (...args: unknown[]) => log.info(text(args)),
    info: (...args: unknown[]) => log.info(text(args)),
    warn: (...args: unknown[]) => log.warn(text(args)),
    error: (...args: unknown[]) => log.error({ err: errors(args) }, text(args)),
    debug: (...args: unknown[]) => {
      if (log.isLevelEnabled('debug')) log.debug(text(args));
    },
    child: (name: string | Record<string, string | number>) =>
      meshLogger(log.child(typeof name === 'string' ? { component: name } : name)),
  } as MeshLogger;
}

function modified(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
