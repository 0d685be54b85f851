import { ErrorCode, apiError } from '@renku-supergraph/kit';

export const maxQueryLength = 200;
export const maxQueryWords = 16;

const word = /[\p{L}\p{N}]/u;
const plainWord = /^[\p{L}\p{N}]+$/u;

/**
 * Turns what a user typed into a Lucene query that means the words literally: Lucene's own
 * syntax (`AND`, `field:`, `*`, quotes, brackets) never reaches the parser unquoted, so no
 * input can be a parse error or a costly query. Each word matches as itself (quoted: the
 * index's analyzer applies) or as the start of a longer word; words are alternatives, and
 * hits matching more of them score higher. Null for an empty query: everything matches.
 */
export function toLuceneQuery(text: string): string | null {
  if (text.length > maxQueryLength) {
    throw apiError(
      ErrorCode.BadUserInput,
      `\`query\` must be at most ${maxQueryLength} characters`,
      { argument: 'query' },
    );
  }
  const words = text.split(/\s+/).filter((token) => token !== '');
  if (words.length === 0) return null;
  if (words.length > maxQueryWords) {
    throw apiError(ErrorCode.BadUserInput, `\`query\` must have at most ${maxQueryWords} words`, {
      argument: 'query',
    });
  }

  // Punctuation alone analyzes to nothing, and an empty phrase is no valid query.
  const searchable = words.filter((token) => word.test(token));
  if (searchable.length === 0) {
    throw apiError(ErrorCode.BadUserInput, '`query` has no letters or digits to search for', {
      argument: 'query',
    });
  }

  return searchable
    .map((token) => {
      const phrase = `"${token.replace(/["\\]/g, '\\$&')}"`;
      // Wildcards skip the analyzer, so only plain words, lower-cased as the index has them.
      return plainWord.test(token) ? `(${phrase} OR ${token.toLowerCase()}*)` : phrase;
    })
    .join(' ');
}
