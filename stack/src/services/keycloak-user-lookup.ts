import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { exclusively, readIfExists } from '../lock';
import { cacheDir, repoRoot } from '../paths';
import { MissingPrerequisite, step } from '../progress';
import { mavenSourcesHash } from '../source-hash';

const run = promisify(execFile);

/**
 * The Keycloak extension the identity subgraph looks users up with, many per call
 * (`keycloak/user-lookup/README.md`).
 */
const project = path.join(repoRoot, 'keycloak', 'user-lookup');
const buildDir = path.join(cacheDir, 'keycloak-user-lookup');
/** The jar Keycloak loads from its `providers/` folder. */
export const userLookupJar = path.join(buildDir, 'renku-keycloak-user-lookup.jar');
const sourcesStamp = path.join(buildDir, '.sources.sha256');
const buildLock = path.join(cacheDir, 'keycloak-user-lookup.lock');
const buildLog = path.join(cacheDir, 'logs', 'keycloak-user-lookup-build.log');

/**
 * Builds the extension with Maven into `<cache>/keycloak-user-lookup` unless the jar there was
 * built from the current pom and sources. Safe to call from several processes at once: one
 * builds, the others wait.
 */
export async function buildUserLookupProvider(): Promise<{ jar: string; sourcesHash: string }> {
  const wanted = userLookupSourcesHash();
  const built = { jar: userLookupJar, sourcesHash: wanted };
  if (isBuilt(wanted)) return built;

  await exclusively(buildLock, async () => {
    // Another process may have built it while this one waited for the lock.
    if (isBuilt(wanted)) return;
    await checkMaven();
    await build(wanted);
  });
  return built;
}

async function build(wanted: string): Promise<void> {
  // Built beside the current one and swapped in, so a half-done build never counts as done.
  const staging = `${buildDir}.building-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(buildLog), { recursive: true });

  step('Building the Keycloak user-lookup extension with Maven (Keycloak jars cached in ~/.m2)');
  const args = ['-B', '-f', path.join(project, 'pom.xml'), `-DbuildDir=${staging}`, 'package'];
  try {
    const { stdout } = await run('mvn', args, {
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    fs.writeFileSync(buildLog, stdout);
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    fs.writeFileSync(buildLog, output);
    fs.rmSync(staging, { recursive: true, force: true });
    const last = output.trim().split('\n').slice(-30).join('\n');
    throw new Error(`mvn package of ${project} failed; see ${buildLog}:\n${last}`);
  }

  // Only the jar and its stamp are kept; Maven's class files are of no further use.
  const built = path.join(staging, path.basename(userLookupJar));
  const ready = `${buildDir}.ready-${process.pid}`;
  fs.rmSync(ready, { recursive: true, force: true });
  fs.mkdirSync(ready, { recursive: true });
  fs.renameSync(built, path.join(ready, path.basename(userLookupJar)));
  fs.writeFileSync(path.join(ready, path.basename(sourcesStamp)), wanted);
  fs.rmSync(staging, { recursive: true, force: true });

  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.renameSync(ready, buildDir);
  step(`Keycloak user-lookup extension built: ${userLookupJar}`);
}

function isBuilt(wanted: string): boolean {
  return fs.existsSync(userLookupJar) && readIfExists(sourcesStamp) === wanted;
}

async function checkMaven(): Promise<void> {
  try {
    await run('mvn', ['--version'], { timeout: 60_000 });
  } catch {
    throw new MissingPrerequisite(
      'mvn',
      'install Apache Maven (Debian: apt-get install maven); it builds the Keycloak extension',
    );
  }
}

/** Names a build of the extension without building it. */
export function userLookupSourcesHash(): string {
  return mavenSourcesHash(project);
}
