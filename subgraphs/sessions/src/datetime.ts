import { GraphQLScalarType } from 'graphql';

/**
 * Output only here: no field of this subgraph takes a DateTime argument, so a value coming in
 * is refused rather than half supported.
 */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    // Resolvers hand over Date objects only; anything else is our bug.
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new TypeError('DateTime serializes valid Date objects only');
    }
    return value.toISOString();
  },
  parseValue() {
    throw new TypeError('the sessions subgraph takes no DateTime input');
  },
  parseLiteral() {
    throw new TypeError('the sessions subgraph takes no DateTime input');
  },
});
