import { serveGraphQL, type Logger, type Running } from '@renku-supergraph/kit';

import type { GitLabSubgraphConfig } from './config';
import { GitLabApi } from './gitlab';
import { openGitLabMesh } from './mesh';
import { GitLabProjectFacts } from './project-facts';
import { GitLabProjectMembers } from './project-members';
import { RepositoryReads } from './repository-reads';
import type { GitLabContext } from './resolvers';
import { buildGitLabSchema } from './schema';

export { readGitLabConfig, type GitLabSubgraphConfig } from './config';
export { buildGitLabMesh, isMeshBuilt } from './mesh';
export { fullPathsPerCall, projectFactsQuery } from './project-facts';
export { membersPerProject, projectMembersQuery } from './project-members';

/** The request header that carries the caller's GitLab token from the gateway. */
export const gitlabTokenHeader = 'x-gitlab-token';

/**
 * Serves the gitlab subgraph over the mesh that `npm run build -w mesh` built. GitLab need
 * not be up: its fields then fail with BACKEND_UNAVAILABLE until it is.
 */
export async function startGitLabSubgraph(
  config: GitLabSubgraphConfig,
  log: Logger,
): Promise<Running> {
  const mesh = await openGitLabMesh(log);
  const api = new GitLabApi(mesh, config.gitlabUrl, log);
  const facts = new GitLabProjectFacts(config.gitlabUrl, log);
  const members = new GitLabProjectMembers(config.gitlabUrl, log);

  let running: Running;
  try {
    running = await serveGraphQL<GitLabContext>({
      name: 'gitlab',
      schema: buildGitLabSchema(),
      log,
      port: config.port,
      observability: config.observability,
      host: config.host,
      context: (base, req) => {
        const gitlabToken = req.get(gitlabTokenHeader) || undefined;
        // Loaders per request: each caller's own token decides what GitLab shows.
        return {
          ...base,
          api,
          gitlabToken,
          projectFacts: facts.loader(gitlabToken),
          projectMembers: members.loader(gitlabToken),
          repositoryReads: new RepositoryReads(config.repositoriesPerRequest),
        };
      },
    });
  } catch (error) {
    mesh.destroy();
    throw error;
  }

  return {
    ...running,
    stop: async () => {
      await running.stop();
      mesh.destroy();
    },
  };
}
