import { readLineageConfig } from './config';

describe('readLineageConfig', () => {
  it('defaults to the local stack', () => {
    expect(readLineageConfig({})).toEqual({
      port: 4003,
      host: '127.0.0.1',
      neo4j: { uri: 'bolt://127.0.0.1:7687', user: undefined, password: undefined },
    });
  });

  it('names the setting that is wrong', () => {
    expect(() => readLineageConfig({ NEO4J_URI: 'not a url' })).toThrow(/NEO4J_URI/);
    expect(() => readLineageConfig({ PORT: 'high' })).toThrow(/PORT/);
    expect(() => readLineageConfig({ NEO4J_USER: 'neo4j' })).toThrow(/NEO4J_PASSWORD/);
  });
});
