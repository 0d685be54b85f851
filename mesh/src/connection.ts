import { ErrorCode, apiError } from '@renku-supergraph/kit';

import { decodeCursor, encodeCursor } from './cursor';
import type { GitLabPage } from './gitlab';

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number | null;
}

/** One of GitLab's numbered pages, `perPage` items long. */
export type PageReader<T> = (page: number, perPage: number) => Promise<GitLabPage<T>>;

/** GitLab serves at most 100 items per page. */
const maxFirst = 100;

const maxPage = 2 ** 31 - 1;

/**
 * A cursor connection over GitLab's numbered pages (`X-Next-Page`, `X-Total`). Pages are
 * `first` long, so paging on with `endCursor` and the same `first` costs one GitLab call per
 * page; a cursor from the middle of a page, or a different `first`, costs two.
 */
export async function pagedConnection<T>(
  readPage: PageReader<T>,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<T>> {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > maxFirst) {
    throw apiError(ErrorCode.BadUserInput, `\`first\` must be 1 to ${maxFirst}`, {
      argument: 'first',
    });
  }
  const start = after == null ? 0 : decodeCursor(after) + 1;

  // The GitLab page holding position `start`, and where `start` lies in it.
  const page = Math.floor(start / size) + 1;
  const skip = start % size;
  // GitLab's page numbers, like GraphQL's Int, end at 2^31 - 1; so does any list it serves.
  if (page + 1 > maxPage) {
    throw apiError(ErrorCode.BadUserInput, '`after` is beyond the end of the list', {
      argument: 'after',
    });
  }
  let last = await readPage(page, size);
  let items = last.items.slice(skip);
  if (skip > 0 && last.nextPage !== undefined) {
    last = await readPage(page + 1, size);
    items = items.concat(last.items);
  }

  const edges = items.slice(0, size).map((node, index) => ({
    cursor: encodeCursor(start + index),
    node,
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: items.length > size || last.nextPage !== undefined,
      endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null,
    },
    totalCount: last.total ?? null,
  };
}
