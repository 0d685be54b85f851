import { toLuceneQuery } from './lucene';

describe('toLuceneQuery', () => {
  it('matches each plain word as itself or as a prefix', () => {
    expect(toLuceneQuery('Flight data')).toBe('("Flight" OR flight*) ("data" OR data*)');
  });

  it('quotes Lucene syntax so that it is searched for literally', () => {
    expect(toLuceneQuery('name:x AND y* "q\\')).toBe('"name:x" ("AND" OR and*) "y*" "\\"q\\\\"');
  });

  it('returns null for nothing but spaces', () => {
    expect(toLuceneQuery('  \t ')).toBeNull();
  });

  it.each([
    ['punctuation only', '*** ) ('],
    ['too long a query', 'a'.repeat(201)],
    ['too many words', Array.from({ length: 17 }, (_, i) => `w${i}`).join(' ')],
  ])('refuses %s with BAD_USER_INPUT', (_label, text) => {
    expect(() => toLuceneQuery(text)).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    );
  });
});
