import express, { type Request, type Response } from 'express';
import { GraphQLError, buildSchema, graphql, type GraphQLSchema } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';

import { repoRoot } from '../../paths';
import { Renderer } from './render';
import type { SeedProject } from './seed';
import type { Caller, GitLabStore, MemberRelation, MemberRow } from './store';

/**
 * The subset of GitLab's GraphQL schema that the gitlab subgraph asks (see SOURCE.md beside
 * it). The stand-in executes this very file, so an answer that does not fit GitLab's types
 * is an error here rather than a surprise in the subgraph.
 */
export const vendoredGraphQLSchemaFile = path.join(
  repoRoot,
  'mesh',
  'gitlab-graphql',
  'schema-subset.graphql',
);

/** GitLab refuses `projects(fullPaths:)` with more paths than this. */
export const maxFullPaths = 50;
/** GitLab's `default_max_page_size`: the most nodes a connection gives, and its default. */
const maxPageSize = 100;
/** The least role that may read a project's statistics (`read_statistics`). */
const reporter = 20;

/** GitLab's answer to a token it does not accept for the API, before any query runs. */
const invalidToken = { errors: [{ message: 'Invalid token' }] };

interface GraphQLContext {
  caller: Caller;
  /** The base of every `webUrl`. */
  web: string;
}

interface ProjectsArgs {
  fullPaths?: string[] | null;
  after?: string | null;
  first?: number | null;
}

interface ProjectMembersArgs {
  relations?: MemberRelation[] | null;
  after?: string | null;
  first?: number | null;
}

/** `MembersFinder::DEFAULT_RELATIONS`, the default of `projectMembers(relations:)`. */
const defaultRelations: MemberRelation[] = ['DIRECT', 'INHERITED'];

/**
 * `POST /api/graphql` as GitLab serves it, for the part of the schema that is vendored:
 * `projects(fullPaths:)` with the same visibility rules and tokens as the REST routes, and
 * each project's `projectMembers`.
 * `externalUrl` is the base of `webUrl`; default the address each request was sent to.
 */
export function graphqlRoute(store: GitLabStore, externalUrl?: string): express.Router {
  const schema = buildSchema(fs.readFileSync(vendoredGraphQLSchemaFile, 'utf8'));
  const root = {
    projects: (args: ProjectsArgs, context: GraphQLContext) => projects(args, context),
  };
  const router = express.Router();

  router.post('/', express.json(), async (req: Request, res: Response) => {
    const caller = authenticate(store, req);
    if (caller === null) {
      res.status(401).json(invalidToken);
      return;
    }

    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.query !== 'string' || body.query.trim() === '') {
      res.json({ errors: [{ message: 'No query string was present' }] });
      return;
    }
    const web = (externalUrl ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');
    res.json(await run(schema, root, body, { caller, web }));
  });
  return router;

  function projects(args: ProjectsArgs, { caller, web }: GraphQLContext) {
    const fullPaths = args.fullPaths ?? undefined;
    if (fullPaths && fullPaths.length > maxFullPaths) {
      throw new GraphQLError(`You cannot provide more than ${maxFullPaths} full_paths`);
    }

    // GitLab's default order is `id_desc`; its cursors carry the id of the last node.
    const afterId = args.after == null ? undefined : cursorId(args.after);
    // A full path names a namespace and a project; `store.project` also takes numeric ids.
    const named = fullPaths
      ? fullPaths.filter((fullPath) => fullPath.includes('/')).map((each) => store.project(each))
      : store.allProjects();
    const visible = named
      .filter((project): project is SeedProject => !!project && store.canSee(project, caller))
      .filter((project, i, all) => all.findIndex((other) => other.id === project.id) === i)
      .sort((a, b) => b.id - a.id)
      .filter((project) => afterId === undefined || project.id < afterId);

    const take = Math.max(0, Math.min(args.first ?? maxPageSize, maxPageSize));
    const page = visible.slice(0, take);
    const last = page.at(-1);
    return {
      nodes: page.map((project) => projectNode(project, caller, web)),
      pageInfo: {
        hasNextPage: visible.length > page.length,
        endCursor: last ? cursorOf(last.id) : null,
      },
    };
  }

  function projectNode(project: SeedProject, caller: Caller, web: string) {
    const fullPath = `${store.namespace(project).fullPath}/${project.path}`;
    return {
      fullPath,
      webUrl: `${web}/${fullPath}`,
      starCount: project.starCount ?? 0,
      forksCount: project.forksCount ?? 0,
      // GitLab authorizes these types (`read_code`, `read_statistics`) and answers null,
      // without an error, to callers who lack the permission.
      repository: () =>
        store.canReadCode(project, caller) ? { rootRef: project.defaultBranch } : null,
      statistics: () =>
        store.accessLevel(project, caller) >= reporter ? statistics(project) : null,
      // Whoever sees a project may read its members (`read_project_member`), as in REST.
      projectMembers: (args: ProjectMembersArgs) => projectMembers(project, args, web),
    };
  }

  /**
   * GitLab's `MembersFinder` behind a keyset connection: without a sort, GitLab orders by the
   * primary key, descending (`Keyset::SimpleOrderBuilder`), so newest membership first.
   */
  function projectMembers(project: SeedProject, args: ProjectMembersArgs, web: string) {
    const relations = new Set(args.relations ?? defaultRelations);
    const afterId = args.after == null ? undefined : cursorId(args.after);
    const rows = store
      .memberRows(project, relations)
      .sort((a, b) => b.id - a.id)
      .filter((row) => afterId === undefined || row.id < afterId);

    const take = Math.max(0, Math.min(args.first ?? maxPageSize, maxPageSize));
    const page = rows.slice(0, take);
    const last = page.at(-1);
    return {
      nodes: page.map((row) => memberNode(row, web)),
      pageInfo: {
        hasNextPage: rows.length > page.length,
        endCursor: last ? cursorOf(last.id) : null,
      },
    };
  }

  function memberNode(row: MemberRow, web: string) {
    // The user as REST renders it, so both APIs show the same avatar and profile URLs.
    const rendered = new Renderer(store, web).member({
      user: row.user,
      accessLevel: row.accessLevel,
      createdAt: '',
    });
    return {
      __typename: row.source === 'project' ? 'ProjectMember' : 'GroupMember',
      id: String(row.id),
      accessLevel: { integerValue: row.accessLevel },
      // The seed has no memberships that end.
      expiresAt: null,
      user: {
        username: rendered.username,
        name: rendered.name,
        state: rendered.state,
        avatarUrl: rendered.avatar_url,
        webUrl: rendered.web_url,
      },
    };
  }

  function statistics(project: SeedProject) {
    const { commitCount, repositorySize } = store.statistics(project);
    return {
      commitCount,
      storageSize: repositorySize,
      repositorySize,
      wikiSize: 0,
      lfsObjectsSize: 0,
      buildArtifactsSize: 0,
      pipelineArtifactsSize: 0,
      packagesSize: 0,
      snippetsSize: 0,
      uploadsSize: 0,
      containerRegistrySize: 0,
    };
  }
}

async function run(
  schema: GraphQLSchema,
  rootValue: unknown,
  body: Record<string, unknown>,
  contextValue: GraphQLContext,
) {
  const variables = body.variables;
  const result = await graphql({
    schema,
    source: body.query as string,
    rootValue,
    contextValue,
    variableValues:
      variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : {},
    operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
  });
  return {
    ...(result.errors ? { errors: result.errors.map((error) => error.toJSON()) } : {}),
    ...(result.data === undefined ? {} : { data: result.data }),
  };
}

/**
 * The caller, as GitLab's GraphQL endpoint finds it: a token in `PRIVATE-TOKEN` or
 * `Authorization: Bearer` that GitLab accepts for the API (`api` or `read_api` scope), or
 * nobody when there is no token. `null`: a token that is not accepted, refused with 401.
 */
function authenticate(store: GitLabStore, req: Request): Caller | null {
  const privateToken = req.get('private-token');
  const authorization = req.get('authorization');
  if (privateToken === undefined && authorization === undefined) return undefined;

  const token = privateToken ?? authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const caller = token ? store.tokenOwner(token) : undefined;
  if (!caller || !caller.scopes.some((scope) => scope === 'api' || scope === 'read_api')) {
    return null;
  }
  return caller;
}

/** GitLab's keyset cursors are Base64 JSON of the ordering column, here `{"id":"5"}`. */
function cursorOf(id: number): string {
  return Buffer.from(JSON.stringify({ id: String(id) })).toString('base64');
}

function cursorId(cursor: string): number {
  try {
    const id = Number(
      (JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { id?: unknown }).id,
    );
    if (Number.isInteger(id)) return id;
  } catch {
    // falls through to GitLab's refusal
  }
  throw new GraphQLError('Please provide a valid cursor');
}
