import { ErrorCode, apiError, backendError, fetchWithin, type Logger } from '@renku-supergraph/kit';
import type { GraphQLError } from 'graphql';

import { projectFields } from './catalogue';
import type { GraphReader } from './neo4j';
import { isProjectPath, toProject, type Project, type Visibility } from './project';
import type { ProjectsContext } from './resolvers';

/** What `updateProject` may change; an absent field stays as it is. */
export interface ProjectChange {
  description?: string | null;
  keywords?: string[];
  visibility?: Visibility;
}

interface UpdateArgs {
  path: string;
  description?: string | null;
  keywords?: string[] | null;
  visibility?: Visibility | null;
}

const maxKeywords = 50;
const visibilities: readonly string[] = ['public', 'internal', 'private'];

// Only the fields the caller changed are written, with GitLab's values for them: GitLab's
// other facts (its topics, say, when only the description changed) are not the graph's.
// `modifiedAt` moves only when a value did, so that repeating a change changes nothing.
const updateCypher = `
MATCH (p:Project {path: $path})
WITH p, [coalesce(p.description, ''), coalesce(p.keywords, []), p.visibility] AS before
SET p.description = CASE WHEN $setDescription THEN $description ELSE p.description END,
    p.keywords = CASE WHEN $setKeywords THEN $keywords ELSE p.keywords END,
    p.visibility = CASE WHEN $setVisibility THEN $visibility ELSE p.visibility END
// Compared without nulls: a comparison with null is null in Cypher, never true.
WITH p, before <> [coalesce(p.description, ''), coalesce(p.keywords, []), p.visibility] AS changed
SET p.modifiedAt = CASE WHEN changed THEN $now ELSE p.modifiedAt END
RETURN ${projectFields} AS project`;

/**
 * Changes a project in GitLab, with the caller's GitLab token so that GitLab decides who may
 * change what, and then in the graph with what GitLab answered, in one write transaction.
 * https://docs.gitlab.com/api/projects/#edit-a-project
 */
export class ProjectUpdater {
  constructor(
    private readonly graph: GraphReader,
    private readonly gitlab: { url: string; timeoutMs: number },
    private readonly log: Logger,
  ) {}

  /** The project as the graph holds it afterwards; null if it left the graph meanwhile. */
  async update(path: string, change: ProjectChange, token: string): Promise<Project | null> {
    const changed = await this.changeInGitLab(path, change, token);

    this.log.debug({ cypher: updateCypher, path }, 'update project');
    const rows = await this.graph.write('update project', async (tx) => {
      const result = await tx.run(updateCypher, {
        path,
        setDescription: change.description !== undefined,
        description: changed.description,
        setKeywords: change.keywords !== undefined,
        keywords: changed.keywords,
        setVisibility: change.visibility !== undefined,
        visibility: changed.visibility,
        now: new Date().toISOString(),
      });
      return result.records.map((record) => record.get('project') as Record<string, unknown>);
    });
    return rows.length === 0 ? null : toProject(rows[0], this.log);
  }

  private async changeInGitLab(
    path: string,
    change: ProjectChange,
    token: string,
  ): Promise<{ description: string | null; keywords: string[]; visibility: Visibility }> {
    const body = {
      ...(change.description !== undefined && { description: change.description ?? '' }),
      // GitLab calls keywords topics (`tag_list` before GitLab 14).
      ...(change.keywords !== undefined && { topics: change.keywords }),
      ...(change.visibility !== undefined && { visibility: change.visibility }),
    };

    let response: Response;
    try {
      response = await fetchWithin(
        `${this.gitlab.url.replace(/\/+$/, '')}/api/v4/projects/${encodeURIComponent(path)}`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        this.gitlab.timeoutMs,
      );
    } catch (error) {
      this.log.error({ err: error, path }, 'GitLab did not answer the project update');
      throw backendError('gitlab', error);
    }
    if (!response.ok) throw this.refusal(response.status, path);

    const answer = (await response.json().catch(() => undefined)) as
      Record<string, unknown> | undefined;
    if (
      !answer ||
      typeof answer.visibility !== 'string' ||
      !visibilities.includes(answer.visibility)
    ) {
      this.log.error({ path }, 'GitLab answered the project update without a project');
      throw backendError('gitlab', new Error('GitLab answered the update without a project'));
    }
    const topics = Array.isArray(answer.topics) ? answer.topics : [];
    return {
      // GitLab keeps a cleared description as an empty text; the graph has none then.
      description:
        typeof answer.description === 'string' && answer.description !== ''
          ? answer.description
          : null,
      keywords: topics.filter((topic): topic is string => typeof topic === 'string'),
      visibility: answer.visibility as Visibility,
    };
  }

  /** GitLab's refusals as client errors; GitLab's own text stays out of them. */
  private refusal(status: number, path: string): GraphQLError {
    const fromGitLab = { backend: 'gitlab' };
    this.log.warn({ status, path }, 'GitLab refused the project update');
    switch (status) {
      case 400:
        return apiError(
          ErrorCode.BadUserInput,
          `GitLab refuses these values for ${path}`,
          fromGitLab,
        );
      case 401:
        return apiError(
          ErrorCode.Unauthenticated,
          'GitLab did not accept the GitLab token of this request; sign in again',
          fromGitLab,
        );
      case 403:
        return apiError(
          ErrorCode.Forbidden,
          `GitLab does not let this caller change ${path}; that takes the Maintainer or Owner role`,
          fromGitLab,
        );
      case 404:
        return apiError(
          ErrorCode.NotFound,
          `GitLab has no project ${path}, or not one visible to this caller`,
          fromGitLab,
        );
      default:
        return backendError('gitlab', new Error(`GitLab answered ${status}`));
    }
  }
}

function toChange(args: UpdateArgs): ProjectChange {
  const change: ProjectChange = {};
  // An explicit null clears the description.
  if (args.description !== undefined) change.description = args.description;
  if (args.keywords != null) {
    const keywords = [...new Set(args.keywords.map((keyword) => keyword.trim()))];
    if (keywords.some((keyword) => keyword === '') || keywords.length > maxKeywords) {
      throw apiError(
        ErrorCode.BadUserInput,
        `\`keywords\` takes at most ${maxKeywords} words that are not blank`,
        { argument: 'keywords' },
      );
    }
    change.keywords = keywords;
  }
  if (args.visibility != null) change.visibility = args.visibility;

  if (Object.keys(change).length === 0) {
    throw apiError(ErrorCode.BadUserInput, 'give `description`, `keywords` or `visibility`');
  }
  return change;
}

/**
 * GitLab first, the graph after it and only with what GitLab answered: when GitLab refuses or
 * fails, the graph is untouched. Should the graph write fail after GitLab changed, the caller
 * gets BACKEND_UNAVAILABLE, and repeating the same change puts the graph right: a change
 * applied twice leaves GitLab and the graph as applying it once does.
 */
export async function updateProject(
  _: unknown,
  args: UpdateArgs,
  context: ProjectsContext,
): Promise<Project> {
  if (context.caller.kind !== 'user') {
    throw apiError(ErrorCode.Unauthenticated, 'sign in to change a project');
  }
  if (context.gitlabToken === undefined) {
    throw apiError(ErrorCode.Unauthenticated, 'changing a project needs a GitLab sign-in');
  }
  if (!isProjectPath(args.path)) {
    throw apiError(ErrorCode.BadUserInput, '`path` must look like namespace/project', {
      argument: 'path',
    });
  }
  const change = toChange(args);

  // Only projects the catalogue shows this caller are changed through it.
  if ((await context.projects.load(args.path)) === null) {
    throw apiError(ErrorCode.NotFound, `there is no project ${args.path}`);
  }

  const updated = await context.updater.update(args.path, change, context.gitlabToken);
  if (updated === null) {
    throw apiError(ErrorCode.NotFound, `project ${args.path} left the catalogue meanwhile`);
  }
  context.projects.clear(args.path).prime(args.path, updated);
  return updated;
}
