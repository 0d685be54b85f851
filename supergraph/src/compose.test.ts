import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { composeSupergraph, readRoverConfig } from './compose';

const root = path.resolve(__dirname, '..', '..');

describe('supergraph composition', () => {
  const subgraphs = readRoverConfig(path.join(root, 'rover.yaml'));

  it('names all five subgraphs in rover.yaml', () => {
    expect(subgraphs.map((subgraph) => subgraph.name).sort()).toEqual([
      'gitlab',
      'identity',
      'lineage',
      'projects',
      'sessions',
    ]);
  });

  it('composes without errors and matches the committed supergraph', () => {
    const committed = fs.readFileSync(path.join(root, 'supergraph', 'supergraph.graphql'), 'utf8');
    expect(composeSupergraph(subgraphs)).toBe(committed);
  });

  it('shares Project across four subgraphs and User with identity', () => {
    const sdl = composeSupergraph(subgraphs);
    const project = /type Project\n((?:\s+@join__type[^\n]+\n)+)/.exec(sdl)?.[1] ?? '';
    for (const graph of ['PROJECTS', 'LINEAGE', 'SESSIONS', 'GITLAB']) {
      expect(project).toContain(`graph: ${graph}`);
    }
    const user = /type User\n((?:\s+@join__type[^\n]+\n)+)/.exec(sdl)?.[1] ?? '';
    expect(user).toContain('graph: IDENTITY');
    expect(user).toMatch(/graph: (SESSIONS|PROJECTS|LINEAGE|GITLAB)/);
  });

  it('reports composition errors instead of writing a broken supergraph', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    fs.writeFileSync(
      path.join(dir, 'a.graphql'),
      'type Query { thing: Thing }\ntype Thing @key(fields: "id") { id: ID! size: Int }',
    );
    fs.writeFileSync(
      path.join(dir, 'b.graphql'),
      'type Query { other: Thing }\ntype Thing @key(fields: "id") { id: ID! size: String }',
    );
    const broken = [
      {
        name: 'a',
        routingUrl: 'http://127.0.0.1:1/graphql',
        schemaFile: path.join(dir, 'a.graphql'),
      },
      {
        name: 'b',
        routingUrl: 'http://127.0.0.1:2/graphql',
        schemaFile: path.join(dir, 'b.graphql'),
      },
    ];
    expect(() => composeSupergraph(broken)).toThrow(/composition failed/);
    fs.rmSync(dir, { recursive: true });
  });
});
