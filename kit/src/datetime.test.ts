import { GraphQLError, Kind } from 'graphql';

import { DateTime } from './datetime';

describe('the DateTime scalar', () => {
  it('serializes a Date as ISO 8601 in UTC', () => {
    expect(DateTime.serialize(new Date('2021-03-04T10:15:00+01:00'))).toBe(
      '2021-03-04T09:15:00.000Z',
    );
  });

  it('refuses to serialize anything but a valid Date', () => {
    expect(() => DateTime.serialize('2021-03-04')).toThrow(TypeError);
    expect(() => DateTime.serialize(new Date('nonsense'))).toThrow(TypeError);
  });

  it('parses zoned ISO 8601 input', () => {
    expect(DateTime.parseValue('2021-03-04T10:15:00+01:00')).toEqual(
      new Date('2021-03-04T09:15:00Z'),
    );
    expect(DateTime.parseLiteral({ kind: Kind.STRING, value: '2021-03-04T09:15:00Z' })).toEqual(
      new Date('2021-03-04T09:15:00Z'),
    );
  });

  it.each(['2021-03-04', '2021-03-04T10:15:00', 'tomorrow', 1614849300000])(
    'refuses %p with BAD_USER_INPUT',
    (value) => {
      try {
        DateTime.parseValue(value);
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(GraphQLError);
        expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
      }
    },
  );
});
