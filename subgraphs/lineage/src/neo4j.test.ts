import { apiError, ErrorCode } from '@renku-supergraph/kit';
import neo4j, { Neo4jError } from 'neo4j-driver';

import { translateNeo4jError } from './neo4j';

describe('translateNeo4jError', () => {
  it('turns an unreachable database into BACKEND_UNAVAILABLE without its text', () => {
    const cause = new Neo4jError(
      'connect ECONNREFUSED 127.0.0.1:7687',
      neo4j.error.SERVICE_UNAVAILABLE,
      '',
      '',
    );
    const error = translateNeo4jError(cause);
    expect(error).toMatchObject({
      message: 'neo4j is not answering; try again shortly',
      extensions: expect.objectContaining({ code: 'BACKEND_UNAVAILABLE', backend: 'neo4j' }),
    });
    expect(error.message).not.toContain('ECONNREFUSED');
  });

  it('keeps our own client errors and leaves Cypher mistakes internal', () => {
    const notFound = apiError(ErrorCode.NotFound, 'gone');
    expect(translateNeo4jError(notFound)).toBe(notFound);
    const syntax = new Neo4jError('Invalid input', 'Neo.ClientError.Statement.SyntaxError', '', '');
    expect(translateNeo4jError(syntax)).toBe(syntax);
  });
});
