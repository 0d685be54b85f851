import { createLogger } from '@renku-supergraph/kit';
import { Neo4jError } from 'neo4j-driver';

import { translateNeo4jError } from './neo4j';

const log = createLogger('projects-test', 'silent');

describe('translateNeo4jError', () => {
  it.each([
    'ServiceUnavailable',
    'SessionExpired',
    'Neo.TransientError.General.DatabaseUnavailable',
    'Neo.ClientError.Security.Unauthorized',
  ])('makes %s BACKEND_UNAVAILABLE without the driver text', (code) => {
    const error = translateNeo4jError(
      new Neo4jError('Could not reach 10.1.2.3:7687', code, 'N/A', 'N/A'),
      'test',
      log,
    );

    expect(error.extensions).toMatchObject({ code: 'BACKEND_UNAVAILABLE', backend: 'neo4j' });
    expect(error.message).not.toContain('10.1.2.3');
  });

  it('makes a Cypher error an internal error without the driver text', () => {
    const error = translateNeo4jError(
      new Neo4jError('Invalid input MATHC', 'Neo.ClientError.Statement.SyntaxError', 'N/A', 'N/A'),
      'test',
      log,
    );

    expect(error.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).not.toContain('MATHC');
  });
});
