import { ErrorCode, apiError } from '@renku-supergraph/kit';

import { decodeCursor, encodeCursor } from './cursor';
import type { GitLabApi, GitLabBranch } from './gitlab';

export interface BranchConnection {
  edges: { cursor: string; node: GitLabBranch }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number | null;
}

/** GitLab serves at most 100 items per page. */
const maxFirst = 100;

/**
 * A cursor connection over GitLab's numbered pages. Pages are `first` long, so paging on with
 * `endCursor` and the same `first` costs one GitLab call per page; a cursor from the middle
 * of a page, or a different `first`, costs two.
 */
export async function branchConnection(
  api: GitLabApi,
  projectPath: string,
  token: string | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<BranchConnection> {
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
  let last = await api.branches(projectPath, page, size, token);
  let items = last.items.slice(skip);
  if (skip > 0 && last.nextPage !== undefined) {
    last = await api.branches(projectPath, page + 1, size, token);
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
