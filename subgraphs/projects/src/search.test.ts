import fs from 'node:fs';
import path from 'node:path';

import { searchIndexes } from './search';

describe('searchIndexes', () => {
  it('are the full-text indexes of the graph schema, statement for statement', () => {
    const file = path.resolve(__dirname, '../../../neo4j/schema/004-search.cypher');
    const statements = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('//'))
      .join('\n')
      .split(';')
      .map((statement) => statement.trim())
      .filter((statement) => statement.startsWith('CREATE FULLTEXT INDEX'));

    expect(statements).toEqual(searchIndexes);
  });
});
