import { buildSchema, parse, validate } from 'graphql';

import { defaultLimits, limitRules, type QueryLimits } from './limits';

const schema = buildSchema(`
  type Query { project(path: String!): Project  projects(first: Int = 20): ProjectConnection! }
  type ProjectConnection { edges: [ProjectEdge!]! }
  type ProjectEdge { node: Project! }
  type Project { path: String! name: String! parent: Project tags: [String!]! datasets: [Dataset!]! }
  type Dataset { name: String! files(first: Int): [String!]! }
`);

const errorsOf = (query: string, limits: QueryLimits = defaultLimits) =>
  validate(schema, parse(query), limitRules(limits)).map((error) => error.message);

describe('query limits', () => {
  it('accepts an ordinary project page', () => {
    expect(
      errorsOf('{ projects(first: 50) { edges { node { path name datasets { name } } } } }'),
    ).toEqual([]);
  });

  it('refuses a query nested deeper than allowed', () => {
    const deep = `{ project(path: "a/b") { ${'parent { '.repeat(20)}name${' }'.repeat(20)} } }`;
    expect(errorsOf(deep)).toEqual([expect.stringMatching(/nested 22 deep; at most 15/)]);
  });

  it('counts depth through fragments and stops at fragments that spread themselves', () => {
    const query = `
      { project(path: "a/b") { ...Up } }
      fragment Up on Project { parent { parent { ...Up } } }
    `;
    expect(() => errorsOf(query, { ...defaultLimits, maxDepth: 2 })).not.toThrow();
    expect(errorsOf(query, { ...defaultLimits, maxDepth: 2 })).toEqual([
      expect.stringMatching(/nested 3 deep/),
    ]);
  });

  it('refuses too many aliases', () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: project(path: "a/b") { name }`);
    expect(errorsOf(`{ ${aliases.join(' ')} }`)).toEqual([
      expect.stringMatching(/31 aliases; at most 30/),
    ]);
  });

  it('multiplies the cost of nested pages by their size', () => {
    const query =
      '{ projects(first: 100) { edges { node { datasets { files(first: 100) { __typename } } } } } }';
    // 100 projects x 20 datasets (a list without `first`) x 100 files is far above the default.
    expect(errorsOf(query)).toEqual([expect.stringMatching(/could resolve about \d+ fields/)]);
    expect(errorsOf(query, { ...defaultLimits, maxCost: 10_000_000 })).toEqual([]);
  });

  it('counts a page size given as a variable as the largest page', () => {
    const query = 'query ($n: Int) { projects(first: $n) { edges { node { name } } } }';
    expect(errorsOf(query, { ...defaultLimits, maxCost: 250 })).toEqual([
      expect.stringMatching(/about 301 fields/),
    ]);
  });
});
