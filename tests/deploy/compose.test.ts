import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

import { keycloakVersion } from '../../stack/src/services/keycloak';

const root = path.resolve(__dirname, '..', '..');
const composeFile = path.join(root, 'docker-compose.yml');

/** `docker-compose config` validates a compose file without a Docker engine. */
function composeConfig(file: string) {
  return spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, COMPOSE_PROFILES: 'gitlab' },
  });
}

describe('docker-compose.yml', () => {
  it('parses with docker-compose config', () => {
    const result = composeConfig(composeFile);
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('rejects a broken copy, so the check above can fail', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    const broken = path.join(dir, 'docker-compose.yml');
    fs.writeFileSync(
      broken,
      fs.readFileSync(composeFile, 'utf8').replace('depends_on:', 'depends_onn:'),
    );
    expect(composeConfig(broken).status).not.toBe(0);
    fs.rmSync(dir, { recursive: true });
  });

  it('starts the gateway only after every subgraph is healthy', () => {
    const config = YAML.parse(
      execFileSync('docker-compose', ['-f', composeFile, 'config'], {
        cwd: root,
        encoding: 'utf8',
      }),
    );
    const dependsOn = config.services.gateway.depends_on;
    for (const subgraph of ['identity', 'projects', 'lineage', 'sessions', 'gitlab-subgraph']) {
      expect(dependsOn[subgraph]).toEqual({ condition: 'service_healthy' });
      expect(config.services[subgraph].healthcheck).toBeDefined();
    }
  });

  it('routes the gateway to every subgraph named in rover.yaml', () => {
    const rover = YAML.parse(fs.readFileSync(path.join(root, 'rover.yaml'), 'utf8'));
    const config = YAML.parse(fs.readFileSync(composeFile, 'utf8'));
    const env = config.services.gateway.environment;
    for (const name of Object.keys(rover.subgraphs)) {
      expect(env[`SUBGRAPH_${name.toUpperCase()}_URL`]).toMatch(/^http:\/\/[a-z-]+:\d+\/graphql$/);
    }
  });

  it('waits for a health check wherever one service depends on another', () => {
    const config = YAML.parse(
      execFileSync('docker-compose', ['-f', composeFile, 'config'], {
        cwd: root,
        encoding: 'utf8',
      }),
    );
    for (const [name, service] of Object.entries<any>(config.services)) {
      for (const [dependency, condition] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, condition }).toEqual({
          name,
          dependency,
          condition: { condition: 'service_healthy' },
        });
        expect(config.services[dependency].healthcheck.test).toBeDefined();
      }
    }
  });

  it('shares browser sessions through Redis and names the Keycloak the services reach', () => {
    const config = YAML.parse(fs.readFileSync(composeFile, 'utf8'));
    const gateway = config.services.gateway.environment;
    expect(gateway.REDIS_URL).toBe('redis://redis:6379');
    expect(gateway.KEYCLOAK_URL).toBe('http://keycloak:8080');
    expect(config.services.redis.image).toMatch(/^redis:/);
  });

  it('keeps Neo4j and Keycloak data in volumes', () => {
    const config = YAML.parse(fs.readFileSync(composeFile, 'utf8'));
    expect(config.services.neo4j.volumes).toContain('neo4j-data:/data');
    expect(config.services.keycloak.volumes.join(' ')).toContain('keycloak-data:');
  });

  it('runs the Keycloak of the local stack with the user-lookup extension', () => {
    const config = YAML.parse(fs.readFileSync(composeFile, 'utf8'));
    const { context, dockerfile } = config.services.keycloak.build;
    const image = fs.readFileSync(path.join(root, context, dockerfile), 'utf8');
    const pom = fs.readFileSync(path.join(root, 'keycloak', 'user-lookup', 'pom.xml'), 'utf8');

    expect(image).toContain(`FROM quay.io/keycloak/keycloak:${keycloakVersion}\n`);
    expect(image).toMatch(
      /^COPY --from=\S+ \S+\/renku-keycloak-user-lookup\.jar \/opt\/keycloak\/providers\/$/m,
    );
    expect(pom).toContain(`<keycloak.version>${keycloakVersion}</keycloak.version>`);
  });
});
