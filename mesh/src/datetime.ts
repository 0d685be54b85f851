import { ErrorCode, apiError } from '@renku-supergraph/kit';
import { GraphQLScalarType, Kind } from 'graphql';

function parseInstant(value: unknown): Date {
  const date =
    typeof value === 'string' && /T.*(Z|[+-]\d{2}:\d{2})$/.test(value)
      ? new Date(value)
      : undefined;
  if (date && !Number.isNaN(date.getTime())) return date;
  throw apiError(
    ErrorCode.BadUserInput,
    'DateTime takes an ISO 8601 date-time with a zone, e.g. 2021-03-04T09:15:00Z',
  );
}

/** Instants travel as ISO 8601 strings in UTC, whatever zone GitLab wrote them in. */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    // Resolvers always hand over a Date; anything else is our bug, not the caller's.
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new TypeError('DateTime serializes valid Date objects only');
    }
    return value.toISOString();
  },
  parseValue: parseInstant,
  parseLiteral(ast) {
    return parseInstant(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});
