import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import neo4j, { type ManagedTransaction } from 'neo4j-driver';

import { cacheDir } from '../../stack/src/paths';
import { freePort } from '../../stack/src/ports';
import { provisionNeo4j, startNeo4j, type Neo4j } from '../../stack/src/services/neo4j';

// The real freePort, which one test makes hand out a taken port once to stage a lost race.
jest.mock('../../stack/src/ports', () => {
  const actual = jest.requireActual('../../stack/src/ports');
  return { ...actual, freePort: jest.fn(actual.freePort) };
});

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neo4j-launcher-'));
const running = new Set<Neo4j>();

async function start(name: string, boltPort?: number): Promise<Neo4j> {
  const instance = await startNeo4j({ dataDir: path.join(root, name), boltPort });
  running.add(instance);
  return instance;
}

async function stop(instance: Neo4j): Promise<void> {
  running.delete(instance);
  await instance.stop();
}

/** One transaction in a session (and driver) of its own, all closed afterwards. */
async function inTransaction<T>(
  url: string,
  mode: 'read' | 'write',
  work: (tx: ManagedTransaction) => Promise<T>,
): Promise<T> {
  const driver = neo4j.driver(url);
  const session = driver.session();
  try {
    return mode === 'write' ? await session.executeWrite(work) : await session.executeRead(work);
  } finally {
    await session.close();
    await driver.close();
  }
}

function probesNamed(url: string, name: string): Promise<string[]> {
  return inTransaction(url, 'read', async (tx) => {
    const result = await tx.run('MATCH (p:LauncherProbe {name: $name}) RETURN p.size AS size', {
      name,
    });
    return result.records.map((record) => String(record.get('size')));
  });
}

beforeAll(async () => {
  await provisionNeo4j();
});

afterAll(async () => {
  await Promise.all([...running].map((instance) => instance.stop()));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('provisionNeo4j', () => {
  it('leaves the built launcher alone when its sources are unchanged', async () => {
    const jar = path.join(cacheDir, 'neo4j-launcher', 'neo4j-launcher.jar');
    const builtAt = fs.statSync(jar).mtimeMs;

    await provisionNeo4j();

    expect(fs.statSync(jar).mtimeMs).toBe(builtAt);
  });
});

describe('startNeo4j', () => {
  it('keeps a written node across a restart on the same data folder', async () => {
    const first = await start('durable');
    expect(first.url).toBe(`bolt://127.0.0.1:${first.boltPort}`);

    // Beyond 2^53: only an exact 64-bit integer survives the round trip.
    const stored = await inTransaction(first.url, 'write', async (tx) => {
      const result = await tx.run(
        'CREATE (p:LauncherProbe {name: $name, size: $size}) RETURN p.size AS size',
        { name: 'durable', size: neo4j.int('9007199254740993') },
      );
      return String(result.records[0].get('size'));
    });
    expect(stored).toBe('9007199254740993');
    await stop(first);

    const second = await start('durable');
    expect(await probesNamed(second.url, 'durable')).toEqual(['9007199254740993']);
    await stop(second);
  });

  it('runs two instances side by side, each with its own data', async () => {
    const [left, right] = await Promise.all([start('left'), start('right')]);
    expect(left.boltPort).not.toBe(right.boltPort);

    await inTransaction(left.url, 'write', (tx) =>
      tx.run('CREATE (:LauncherProbe {name: $name, size: $size})', {
        name: 'left',
        size: neo4j.int(1),
      }),
    );

    expect(await probesNamed(left.url, 'left')).toEqual(['1']);
    expect(await probesNamed(right.url, 'left')).toEqual([]);
    await Promise.all([stop(left), stop(right)]);
  });

  it('moves to another port when the free port it picked is taken before Neo4j binds it', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const takenPort = (squatter.address() as net.AddressInfo).port;
    jest.mocked(freePort).mockClear().mockResolvedValueOnce(takenPort);

    try {
      const instance = await start('raced');
      expect(freePort).toHaveBeenCalledTimes(2);
      expect(instance.boltPort).not.toBe(takenPort);
      expect(await probesNamed(instance.url, 'nobody')).toEqual([]);
      await stop(instance);
    } finally {
      squatter.close();
    }
  });

  describe('with an instance running', () => {
    let instance: Neo4j;

    beforeAll(async () => {
      instance = await start('running');
    });

    it('refuses a Bolt port that is already taken, naming the port', async () => {
      await expect(start('clash', instance.boltPort)).rejects.toThrow(
        `port ${instance.boltPort} for Neo4j Bolt is already in use`,
      );
    });

    it('accepts any credentials, as authentication is off on loopback', async () => {
      const driver = neo4j.driver(instance.url, neo4j.auth.basic('neo4j', 'not-a-password'));
      try {
        const { records } = await driver.executeQuery('RETURN 1 AS one');
        expect(records[0].get('one').toNumber()).toBe(1);
      } finally {
        await driver.close();
      }
    });

    it('stops on request and frees its port', async () => {
      await stop(instance);

      const driver = neo4j.driver(instance.url, undefined, { connectionTimeout: 2_000 });
      try {
        await expect(driver.verifyConnectivity()).rejects.toThrow();
      } finally {
        await driver.close();
      }
    });
  });
});
