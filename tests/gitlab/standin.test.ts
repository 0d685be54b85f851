import { createLogger } from '../../kit/src';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { OpenApiValidator } from '../../stack/src/services/gitlab-standin/openapi';
import { servedPaths } from '../../stack/src/services/gitlab-standin/server';

const demo = 'ada.analyst/tutorial-zhbikes';
const privateProject = 'ada.analyst/bike-forecast';
const deepProject = 'sdsc/teaching/hs2026/bike-counts';
const internalProject = 'sdsc/lab-notes';
const tokens = {
  ada: 'glpat-standin-ada-analyst-api',
  adaProfileOnly: 'glpat-standin-ada-analyst-read-user',
  ben: 'glpat-standin-ben-bayes-read-api',
};
const demoBranches = ['clean-data', 'master', 'plots', 'refactor-scripts', 'zhbikes-dataset'];

describe('GitLab stand-in', () => {
  let gitlab: GitLabStandin;
  const spec = OpenApiValidator.load();

  beforeAll(async () => {
    gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
  });

  afterAll(async () => {
    await gitlab?.stop();
  });

  async function get(apiPath: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${gitlab.url}/api/v4${apiPath}`, { headers });
    const body: any = await response.json();
    return { status: response.status, headers: response.headers, body };
  }

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const encoded = (projectPath: string) => encodeURIComponent(projectPath);

  /** Fails with the schema's complaints, so a wrong field names itself. */
  function expectSpecShape(specPath: string, status: number, body: unknown): void {
    expect(spec.check(specPath, status, body)).toEqual([]);
  }

  describe('against the vendored spec', () => {
    it('serves only paths that the spec declares as GET operations', () => {
      const declared = spec.getPaths();
      for (const served of Object.values(servedPaths)) expect(declared).toContain(served);
    });

    it('answers a project by numeric id in the shape of the spec', async () => {
      const { status, body } = await get('/projects/1');
      expect(status).toBe(200);
      expect(body.path_with_namespace).toBe(demo);
      expectSpecShape(servedPaths.project, 200, body);
    });

    it('answers a member with permissions, still in the shape of the spec', async () => {
      const { status, body } = await get(
        `/projects/${encoded(privateProject)}`,
        bearer(tokens.ada),
      );
      expect(status).toBe(200);
      expect(body.permissions).toEqual({
        project_access: { access_level: 50, notification_level: 3 },
        group_access: null,
      });
      expectSpecShape(servedPaths.project, 200, body);
    });

    it('answers a project in a nested group in the shape of the spec', async () => {
      const { status, body } = await get(`/projects/${encoded(deepProject)}`, bearer(tokens.ben));
      expect(status).toBe(200);
      expect(body.namespace).toMatchObject({
        kind: 'group',
        full_path: 'sdsc/teaching/hs2026',
        parent_id: 11,
      });
      expectSpecShape(servedPaths.project, 200, body);
    });

    it('answers the token owner in the shape of the spec', async () => {
      const { status, body } = await get('/user', bearer(tokens.ada));
      expect(status).toBe(200);
      expect(body).toMatchObject({ id: 1, username: 'ada.analyst', name: 'Ada Analyst' });
      expectSpecShape(servedPaths.currentUser, 200, body);
    });

    it('answers branches, one branch and commits in the shape of the spec', async () => {
      const branches = await get(`/projects/${encoded(demo)}/repository/branches`);
      expect(branches.status).toBe(200);
      expect(branches.body).toHaveLength(demoBranches.length);
      expectSpecShape(servedPaths.branches, 200, branches.body);

      const branch = await get(`/projects/${encoded(demo)}/repository/branches/master`);
      expect(branch.status).toBe(200);
      expectSpecShape(servedPaths.branch, 200, branch.body);

      const commits = await get(`/projects/${encoded(demo)}/repository/commits`);
      expect(commits.status).toBe(200);
      expect(commits.body).toHaveLength(4);
      expectSpecShape(servedPaths.commits, 200, commits.body);
    });

    it('sends every pagination header that the spec declares for paged answers', async () => {
      for (const specPath of [servedPaths.branches, servedPaths.commits]) {
        const apiPath = specPath.replace('/api/v4', '').replace('{id}', '1');
        const { headers } = await get(`${apiPath}?per_page=2`);
        const declared = spec.declaredHeaders(specPath, 200);
        expect(declared).toEqual(expect.arrayContaining(['X-Total', 'X-Next-Page', 'Link']));
        for (const name of declared) expect(headers.get(name)).not.toBeNull();
      }
    });

    it('refuses answers whose fields have the wrong type or are not in the spec', async () => {
      const { body } = await get('/projects/1');
      expect(spec.check(servedPaths.project, 200, { ...body, id: '1' })).not.toEqual([]);
      expect(
        spec.check(servedPaths.project, 200, {
          ...body,
          namespace: { ...body.namespace, id: 'x' },
        }),
      ).not.toEqual([]);
      expect(
        spec.check(servedPaths.project, 200, { ...body, defaultBranch: 'master' }),
      ).not.toEqual([]);

      const commits = await get('/projects/1/repository/commits');
      const broken = [{ ...commits.body[0], parent_ids: 'dda09be8' }];
      expect(spec.check(servedPaths.commits, 200, broken)).not.toEqual([]);
    });
  });

  describe('projects', () => {
    it('finds a project by its URL-encoded path in a namespace of three levels', async () => {
      const { status, body } = await get(`/projects/${encoded(deepProject)}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        id: 3,
        path_with_namespace: deepProject,
        default_branch: 'main',
      });
      expect(body.name_with_namespace).toBe(
        'Swiss Data Science Center / Teaching / Autumn semester 2026 / Bike counts exercise',
      );
    });

    it('does not find a path that was encoded twice', async () => {
      const { status, body } = await get(`/projects/${encodeURIComponent(encoded(demo))}`);
      expect(status).toBe(404);
      expect(body).toEqual({ message: '404 Project Not Found' });
    });

    it('hides a private project from anonymous callers behind a 404', async () => {
      const { status, body } = await get(`/projects/${encoded(privateProject)}`);
      expect(status).toBe(404);
      expect(body).toEqual({ message: '404 Project Not Found' });
    });

    it('shows an internal project to any signed-in user only', async () => {
      expect((await get(`/projects/${encoded(internalProject)}`)).status).toBe(404);
      expect((await get(`/projects/${encoded(internalProject)}`, bearer(tokens.ada))).status).toBe(
        200,
      );
    });

    it('takes personal access tokens in the PRIVATE-TOKEN header too', async () => {
      const { status } = await get(`/projects/${encoded(privateProject)}`, {
        'PRIVATE-TOKEN': tokens.ada,
      });
      expect(status).toBe(200);
    });

    it('refuses an unknown token with 401 even for a public project', async () => {
      const { status, body } = await get('/projects/1', bearer('glpat-not-a-token'));
      expect(status).toBe(401);
      expect(body).toEqual({ message: '401 Unauthorized' });
    });

    it('refuses a token without an API scope with 403 insufficient_scope', async () => {
      const { status, body } = await get('/projects/1', bearer(tokens.adaProfileOnly));
      expect(status).toBe(403);
      expect(body.error).toBe('insufficient_scope');
      expect((await get('/user', bearer(tokens.adaProfileOnly))).status).toBe(200);
    });

    it('asks for a token on /user', async () => {
      expect((await get('/user')).status).toBe(401);
    });

    it('answers unknown API routes with GitLab 404 body', async () => {
      const { status, body } = await get('/projects/1/issues');
      expect(status).toBe(404);
      expect(body).toEqual({ error: '404 Not Found' });
    });
  });

  describe('repository', () => {
    it('pages branches by name with GitLab headers and links', async () => {
      const { status, headers, body } = await get(
        `/projects/${encoded(demo)}/repository/branches?per_page=2&page=2`,
      );
      expect(status).toBe(200);
      expect(body.map((branch: { name: string }) => branch.name)).toEqual([
        'plots',
        'refactor-scripts',
      ]);
      expect(headers.get('x-page')).toBe('2');
      expect(headers.get('x-per-page')).toBe('2');
      expect(headers.get('x-next-page')).toBe('3');
      expect(headers.get('x-prev-page')).toBe('1');
      expect(headers.get('x-total')).toBe('5');
      expect(headers.get('x-total-pages')).toBe('3');

      const links = Object.fromEntries(
        headers
          .get('link')!
          .split(', ')
          .map((link) => {
            const [, url, rel] = link.match(/^<([^>]+)>; rel="(\w+)"$/)!;
            return [rel, new URL(url)];
          }),
      );
      expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next', 'prev']);
      expect(links.next.pathname).toBe(`/api/v4/projects/${encoded(demo)}/repository/branches`);
      expect(links.next.searchParams.get('page')).toBe('3');
      expect(links.last.searchParams.get('page')).toBe('3');
    });

    it('walks all branches by following X-Next-Page', async () => {
      const names: string[] = [];
      let page = '1';
      while (page !== '') {
        const { headers, body } = await get(
          `/projects/1/repository/branches?per_page=2&page=${page}`,
        );
        names.push(...body.map((branch: { name: string }) => branch.name));
        page = headers.get('x-next-page')!;
      }
      expect(names).toEqual(demoBranches);
    });

    it('marks the default branch, protection and merged branches', async () => {
      const { body } = await get('/projects/1/repository/branches');
      const byName = Object.fromEntries(body.map((branch: any) => [branch.name, branch]));
      expect(byName.master).toMatchObject({ default: true, protected: true, merged: false });
      expect(byName['clean-data']).toMatchObject({
        default: false,
        protected: false,
        merged: true,
      });
      expect(byName.master.commit.id).toBe('90c458fceb7fa2f267c797ca44c29d93aba046f6');
    });

    it('answers one branch, or 404 Branch Not Found', async () => {
      const found = await get(`/projects/${encoded(demo)}/repository/branches/clean-data`);
      expect(found.body.commit.short_id).toBe('07b64b6c');
      const missing = await get(`/projects/${encoded(demo)}/repository/branches/nope`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ message: '404 Branch Not Found' });
    });

    it('lists the history of a ref newest first, with the demo commits', async () => {
      const { headers, body } = await get('/projects/1/repository/commits?ref_name=clean-data');
      expect(body.map((commit: { id: string }) => commit.id)).toEqual([
        '07b64b6cd153cf7988e2f9cca41c58e296f57b75',
        '01f169f0beac20c7b3646b48df4010a15787adf8',
        'dda09be8bc7e60201298ad576aa72c5f9ff16bc8',
      ]);
      expect(body[1]).toMatchObject({
        title: 'added refactored scripts',
        author_name: 'Ada Analyst',
        authored_date: '2018-09-04T10:38:32.000Z',
      });
      expect(headers.get('x-total')).toBe('3');
    });

    it('keeps the code of a private project from its guests with 403', async () => {
      const guest = await get(`/projects/${encoded(privateProject)}`, bearer(tokens.ben));
      expect(guest.status).toBe(200);
      const code = await get(
        `/projects/${encoded(privateProject)}/repository/branches`,
        bearer(tokens.ben),
      );
      expect(code.status).toBe(403);
      expect(code.body).toEqual({ message: '403 Forbidden' });
    });

    it('refuses a page number that is not a positive integer with 400', async () => {
      expect((await get('/projects/1/repository/branches?page=0')).status).toBe(400);
      expect((await get('/projects/1/repository/commits?per_page=ten')).status).toBe(400);
    });
  });
});
