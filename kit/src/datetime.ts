import { GraphQLScalarType, Kind } from 'graphql';

import { apiError, ErrorCode } from './errors';

// A full date-time with a zone: a date alone, or a time without a zone, is ambiguous.
const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseInstant(value: unknown): Date {
  if (typeof value === 'string' && isoInstant.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw apiError(
    ErrorCode.BadUserInput,
    'DateTime takes an ISO 8601 date-time with a zone, e.g. 2021-03-04T09:15:00Z',
  );
}

/** Instants travel as ISO 8601 strings in UTC, whatever zone a backend wrote; resolvers work with `Date`. */
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
