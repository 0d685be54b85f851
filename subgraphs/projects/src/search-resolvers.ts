import { ErrorCode, apiError } from '@renku-supergraph/kit';

import { decodeCursor, encodeCursor } from './cursor';
import { toLuceneQuery } from './lucene';
import { pageSize } from './paging';
import type { Visibility } from './project';
import type { ProjectsContext } from './resolvers';
import {
  searchTypes,
  type SearchFacets,
  type SearchFilter,
  type SearchOrder,
  type SearchPosition,
  type SearchType,
  type SortField,
} from './search';
import { memberOf, visibleTo, type MemberRole } from './visibility';

interface SearchArgs {
  query?: string | null;
  types?: SearchType[] | null;
  creator?: string[] | null;
  role?: SearchRole[] | null;
  visibility?: Visibility[] | null;
  namespace?: string[] | null;
  since?: Date | null;
  until?: Date | null;
  sort?: { field?: string | null; direction?: string | null } | null;
  first?: number | null;
  after?: string | null;
}

const sortFields: Record<string, SortField> = {
  MATCHING_SCORE: 'matchingScore',
  NAME: 'name',
  DATE: 'date',
  DATE_MODIFIED: 'dateModified',
};

type SearchRole = 'OWNER' | 'MAINTAINER' | 'READER';

const memberRoles: Record<SearchRole, MemberRole> = {
  OWNER: 'owner',
  MAINTAINER: 'maintainer',
  READER: 'reader',
};

const typeNames: Record<SearchType, string> = {
  PROJECT: 'Project',
  DATASET: 'Dataset',
  WORKFLOW: 'Workflow',
  PERSON: 'Person',
};

/** An empty list filters nothing, like a missing one. */
function listOrNull<T>(values: T[] | null | undefined): T[] | null {
  return values == null || values.length === 0 ? null : values;
}

function toFilter(args: SearchArgs, context: ProjectsContext): SearchFilter {
  const visible = visibleTo(context.caller);
  const asked = listOrNull(args.visibility);

  let membership: SearchFilter['membership'] = null;
  const roles = listOrNull(args.role);
  if (roles !== null) {
    if (context.caller.kind !== 'user') {
      throw apiError(ErrorCode.Unauthenticated, 'sign in to filter by your role', {
        argument: 'role',
      });
    }
    membership = {
      username: context.caller.username,
      roles: roles.map((role) => memberRoles[role]),
    };
  }

  const since = args.since?.getTime() ?? null;
  const until = args.until?.getTime() ?? null;
  if (since !== null && until !== null && since > until) {
    throw apiError(ErrorCode.BadUserInput, '`since` must not be after `until`', {
      argument: 'since',
    });
  }

  return {
    lucene: args.query == null ? null : toLuceneQuery(args.query),
    types: listOrNull(args.types) ?? searchTypes,
    creators: listOrNull(args.creator)?.map((name) => name.trim().toLowerCase()) ?? null,
    visibilities: asked === null ? visible : visible.filter((v) => asked.includes(v)),
    memberOf: asked === null || asked.includes('private') ? memberOf(context.caller) : [],
    visibilityAsked: asked !== null,
    namespaces: listOrNull(args.namespace)?.map((ns) => ns.replace(/^\/+|\/+$/g, '')) ?? null,
    since,
    until,
    membership,
  };
}

function isPosition(value: unknown): value is SearchPosition {
  if (value === null || typeof value !== 'object') return false;
  const { value: sortValue, key } = value as Record<string, unknown>;
  return (
    typeof key === 'string' &&
    (sortValue === null || typeof sortValue === 'string' || typeof sortValue === 'number') &&
    Object.keys(value).length === 2
  );
}

export const searchResolvers = {
  Query: {
    search: async (_: unknown, args: SearchArgs, context: ProjectsContext) => {
      const filter = toFilter(args, context);
      const order: SearchOrder = {
        field: sortFields[args.sort?.field ?? 'MATCHING_SCORE'],
        descending: (args.sort?.direction ?? 'DESC') === 'DESC',
      };
      const first = pageSize(args.first);
      // A cursor holds a sort value, so it is only good for the same order.
      const orderName = `search:${order.field}:${order.descending ? 'desc' : 'asc'}`;
      const after = args.after == null ? null : decodeCursor(orderName, args.after, isPosition);

      const page = await context.searchIndex.page(filter, order, first, after);
      const edges = page.hits.map(({ hit, score, position }) => {
        if (hit.type === 'PROJECT') context.projects.prime(hit.node.path, hit.node);
        return {
          cursor: encodeCursor(orderName, position),
          matchingScore: score,
          node: { ...hit.node, __typename: typeNames[hit.type] },
        };
      });

      // Counted only when asked for, once for both fields: it is a query of its own.
      let facets: Promise<SearchFacets> | undefined;
      const countAll = () => (facets ??= context.searchIndex.facets(filter));
      return {
        edges,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: async () => (await countAll()).total,
        facets: countAll,
      };
    },
  },

  types: {
    SearchHit: {
      __resolveType: (node: { __typename: string }) => node.__typename,
    },
  },
};
