import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger } from '../../kit/src';
import { startGitLabStandin, type GitLabStandin } from '../../stack/src/services/gitlab';
import { OpenApiValidator } from '../../stack/src/services/gitlab-standin/openapi';
import { servedPaths, servedPutPaths } from '../../stack/src/services/gitlab-standin/server';

const demo = 'ada.analyst/tutorial-zhbikes';
const privateProject = 'ada.analyst/bike-forecast';
const deepProject = 'sdsc/teaching/hs2026/bike-counts';
const internalProject = 'sdsc/lab-notes';
const bensPrivateProject = 'ben.bayes/exam-questions';
const tokens = {
  ada: 'glpat-standin-ada-analyst-api',
  adaProfileOnly: 'glpat-standin-ada-analyst-read-user',
  ben: 'glpat-standin-ben-bayes-read-api',
  benApi: 'glpat-standin-ben-bayes-api',
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
    it('serves only paths and methods that the spec declares', () => {
      const declared = spec.getPaths();
      for (const served of Object.values(servedPaths)) expect(declared).toContain(served);
      const declaredPut = spec.paths('put');
      for (const served of Object.values(servedPutPaths)) expect(declaredPut).toContain(served);
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

    it('answers a tree, a file and statistics in the shape of the spec', async () => {
      const tree = await get(`/projects/${encoded(demo)}/repository/tree?recursive=true`);
      expect(tree.status).toBe(200);
      expectSpecShape(servedPaths.tree, 200, tree.body);

      const file = await get(
        `/projects/${encoded(demo)}/repository/files/${encoded('src/clean_data.py')}?ref=master`,
      );
      expect(file.status).toBe(200);
      expectSpecShape(servedPaths.file, 200, file.body);

      const project = await get(`/projects/${encoded(demo)}?statistics=true`, bearer(tokens.ada));
      expect(project.body.statistics).toBeDefined();
      expectSpecShape(servedPaths.project, 200, project.body);
    });

    it('answers all members of a project in the shape of the spec', async () => {
      const { status, body } = await get(`/projects/${encoded(deepProject)}/members/all`);
      expect(status).toBe(200);
      expect(body.length).toBeGreaterThan(0);
      expectSpecShape(servedPaths.members, 200, body);
    });

    it('sends every pagination header that the spec declares for paged answers', async () => {
      const paged = [
        servedPaths.branches,
        servedPaths.commits,
        servedPaths.members,
        servedPaths.tree,
      ];
      for (const specPath of paged) {
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

  describe('members', () => {
    const members = (projectPath: string, query = '', headers: Record<string, string> = {}) =>
      get(`/projects/${encoded(projectPath)}/members/all${query}`, headers);
    const levels = (body: { username: string; access_level: number }[]) =>
      body.map((member) => [member.username, member.access_level]);

    it('lists direct members by user id with their access levels', async () => {
      const { status, body } = await members(demo);
      expect(status).toBe(200);
      expect(levels(body)).toEqual([
        ['ada.analyst', 50],
        ['ben.bayes', 30],
      ]);
      expect(body[1]).toMatchObject({
        id: 2,
        name: 'Ben Bayes',
        state: 'active',
        created_at: '2019-03-01T09:00:00.000Z',
        expires_at: null,
        membership_state: 'active',
      });
    });

    it('includes members of ancestor groups, each once at their highest level', async () => {
      // ben.bayes is a maintainer of the project and an owner of the top group `sdsc`.
      const { body } = await members(deepProject);
      expect(levels(body)).toEqual([
        ['ada.analyst', 30],
        ['ben.bayes', 50],
      ]);
    });

    it('gives group members their inherited access to the project', async () => {
      const { body } = await get(`/projects/${encoded(deepProject)}`, bearer(tokens.ben));
      expect(body.permissions.project_access.access_level).toBe(50);
    });

    it('pages members with GitLab headers', async () => {
      const first = await members(demo, '?per_page=1');
      expect(levels(first.body)).toEqual([['ada.analyst', 50]]);
      expect(first.headers.get('x-total')).toBe('2');
      expect(first.headers.get('x-next-page')).toBe('2');
      const second = await members(demo, '?per_page=1&page=2');
      expect(levels(second.body)).toEqual([['ben.bayes', 30]]);
      expect(second.headers.get('x-next-page')).toBe('');
    });

    it('filters by query on username or name, and by user ids', async () => {
      expect(levels((await members(demo, '?query=BAYES')).body)).toEqual([['ben.bayes', 30]]);
      expect(levels((await members(demo, '?user_ids=1')).body)).toEqual([['ada.analyst', 50]]);
      expect((await members(demo, '?user_ids=one')).status).toBe(400);
    });

    it('shows the members of a private project to its guests but hides them from others', async () => {
      expect((await members(privateProject)).status).toBe(404);
      const guest = await members(privateProject, '', bearer(tokens.ben));
      expect(guest.status).toBe(200);
      expect(levels(guest.body)).toEqual([
        ['ada.analyst', 50],
        ['ben.bayes', 10],
      ]);
    });

    it('hides the members of an internal project from anonymous callers', async () => {
      expect((await members(internalProject)).status).toBe(404);
      expect((await members(internalProject, '', bearer(tokens.ada))).status).toBe(200);
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

    it('lists a folder with folders first and Git object ids', async () => {
      const { status, headers, body } = await get('/projects/1/repository/tree');
      expect(status).toBe(200);
      expect(body.map((entry: any) => [entry.type, entry.path])).toEqual([
        ['tree', '.renku'],
        ['tree', 'data'],
        ['tree', 'src'],
        ['blob', 'README.md'],
      ]);
      expect(headers.get('x-total')).toBe('4');
      const readme = body[3];
      // `git hash-object README.md` of the seed's text.
      const text =
        '# tutorial-zhbikes\n\nCleaning and plotting the bike and pedestrian counts of the city of Zurich, 2016.\n';
      const expected = createHash('sha1')
        .update(`blob ${Buffer.byteLength(text)}\0${text}`)
        .digest('hex');
      expect(readme).toEqual({
        id: expected,
        name: 'README.md',
        type: 'blob',
        path: 'README.md',
        mode: '100644',
      });
    });

    it('lists a folder at an older ref, recursively and paged', async () => {
      const older = await get('/projects/1/repository/tree?ref=zhbikes-dataset&recursive=true');
      expect(older.body.map((entry: any) => entry.path)).toEqual([
        'data',
        'data/zhbikes',
        'data/zhbikes/2016_verkehrszaehlungen_werte_fussgaenger_velo.csv',
        'README.md',
      ]);
      const src = await get('/projects/1/repository/tree?path=src&per_page=1&page=2');
      expect(src.body.map((entry: any) => entry.path)).toEqual(['src/plot_data.py']);
      expect(src.headers.get('x-total')).toBe('2');
    });

    it('answers 404 Tree Not Found for a missing folder or ref', async () => {
      for (const query of ['path=nothing', 'ref=no-such-branch']) {
        const { status, body } = await get(`/projects/1/repository/tree?${query}`);
        expect(status).toBe(404);
        expect(body).toEqual({ message: '404 Tree Not Found' });
      }
    });

    it('answers a file whose path has spaces and slashes, encoded once', async () => {
      const filePath = 'exercises/sheet 3/task 2 notes.md';
      const { status, body } = await get(
        `/projects/${encoded(deepProject)}/repository/files/${encoded(filePath)}?ref=main`,
      );
      expect(status).toBe(200);
      expect(body).toMatchObject({
        file_name: 'task 2 notes.md',
        file_path: filePath,
        ref: 'main',
        encoding: 'base64',
        commit_id: '73f7ead1dbc2ce2e3fde9323f54ec4739c83a877',
        last_commit_id: '73f7ead1dbc2ce2e3fde9323f54ec4739c83a877',
      });
      const content = Buffer.from(body.content, 'base64');
      expect(content.toString('utf8')).toMatch(/^# Task 2/);
      expect(body.size).toBe(content.length);
      expect(body.content_sha256).toBe(createHash('sha256').update(content).digest('hex'));

      const twice = await get(
        `/projects/${encoded(deepProject)}/repository/files/${encodeURIComponent(encoded(filePath))}?ref=main`,
      );
      expect(twice.status).toBe(404);
    });

    it('names the last commit that changed a file, which may be older than the ref', async () => {
      const { body } = await get(
        `/projects/1/repository/files/${encoded('src/plot_data.py')}?ref=master`,
      );
      expect(body.commit_id).toBe('90c458fceb7fa2f267c797ca44c29d93aba046f6');
      expect(body.last_commit_id).toBe('01f169f0beac20c7b3646b48df4010a15787adf8');
    });

    it('answers a file like GitLab when the ref, the file or the ref parameter is missing', async () => {
      const file = `/projects/1/repository/files/${encoded('src/plot_data.py')}`;
      expect((await get(`${file}?ref=nope`)).body).toEqual({ message: '404 Commit Not Found' });
      // Not yet written at the first commit.
      expect((await get(`${file}?ref=zhbikes-dataset`)).body).toEqual({
        message: '404 File Not Found',
      });
      expect((await get(file)).status).toBe(400);
      expect((await get(`${file}?ref=HEAD`)).status).toBe(200);
    });

    it('keeps the files of a private project from guests and strangers', async () => {
      const tree = `/projects/${encoded(privateProject)}/repository/tree`;
      expect((await get(tree)).status).toBe(404);
      expect((await get(tree, bearer(tokens.ben))).status).toBe(403);
      expect((await get(tree, bearer(tokens.ada))).status).toBe(200);
    });

    it('adds statistics for reporters and up only, when asked', async () => {
      const asked = `/projects/${encoded(demo)}?statistics=true`;
      const owner = await get(asked, bearer(tokens.ada));
      expect(owner.body.statistics).toMatchObject({ commit_count: 4, wiki_size: 0 });
      expect(owner.body.statistics.repository_size).toBeGreaterThan(0);
      expect(owner.body.statistics.storage_size).toBe(owner.body.statistics.repository_size);
      expect(owner.body).toMatchObject({ star_count: 2, forks_count: 1 });

      expect((await get(`/projects/${encoded(demo)}`, bearer(tokens.ada))).body.statistics).toBe(
        undefined,
      );
      expect((await get(asked)).body.statistics).toBeUndefined();
      // A guest of the private project is below reporter.
      const guest = await get(
        `/projects/${encoded(privateProject)}?statistics=true`,
        bearer(tokens.ben),
      );
      expect(guest.body.statistics).toBeUndefined();
    });

    it('refuses a page number that is not a positive integer with 400', async () => {
      expect((await get('/projects/1/repository/branches?page=0')).status).toBe(400);
      expect((await get('/projects/1/repository/commits?per_page=ten')).status).toBe(400);
    });
  });

  describe('editing a project', () => {
    // Edits change the stand-in's state: they get a stand-in of their own.
    let editable: GitLabStandin;

    beforeAll(async () => {
      editable = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
    });

    afterAll(async () => {
      await editable?.stop();
    });

    async function put(projectPath: string, body: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(`${editable.url}/api/v4/projects/${encoded(projectPath)}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    }

    async function read(projectPath: string, token = tokens.ada) {
      const response = await fetch(`${editable.url}/api/v4/projects/${encoded(projectPath)}`, {
        headers: bearer(token),
      });
      return (await response.json()) as any;
    }

    it('lets an owner change description, topics and visibility, in the shape of the spec', async () => {
      const change = {
        description: 'Zurich bike counts, cleaned and plotted.',
        topics: ['renku', ' cycling ', 'Renku', ''],
        visibility: 'internal',
      };
      const { status, body } = await put(demo, change, bearer(tokens.ada));
      expect(status).toBe(200);
      expect(body).toMatchObject({
        description: change.description,
        topics: ['renku', 'cycling'],
        visibility: 'internal',
      });
      expect(spec.check(servedPutPaths.project, 200, body, 'put')).toEqual([]);
      // Unlike a `GET`, GitLab's `PUT` answer leaves out the caller's permissions.
      expect(body.permissions).toBeUndefined();

      const after = await read(demo);
      expect(after).toMatchObject({ topics: ['renku', 'cycling'], visibility: 'internal' });
      // Internal now: anonymous callers no longer see it.
      expect((await fetch(`${editable.url}/api/v4/projects/1`)).status).toBe(404);
    });

    it('answers the same when the same change is sent twice', async () => {
      const change = { description: 'Exercise sheet 3, revised.' };
      const first = await put(deepProject, change, bearer(tokens.benApi));
      const second = await put(deepProject, change, bearer(tokens.benApi));
      expect(first.status).toBe(200);
      expect(second).toEqual(first);
    });

    it('takes topics as a comma-separated form field and as repeated multipart fields', async () => {
      const url = `${editable.url}/api/v4/projects/${encoded(privateProject)}`;
      const form = await fetch(url, {
        method: 'PUT',
        headers: { ...bearer(tokens.ada), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ topics: 'forecasting,time series' }),
      });
      expect(((await form.json()) as any).topics).toEqual(['forecasting', 'time series']);

      const multipart = new FormData();
      multipart.append('topics[]', 'forecasting');
      multipart.append('topics[]', 'weather');
      multipart.append('visibility', 'private');
      const answer = await fetch(url, {
        method: 'PUT',
        headers: bearer(tokens.ada),
        body: multipart,
      });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as any).topics).toEqual(['forecasting', 'weather']);
    });

    it('refuses a developer with 403 and leaves the project as it was', async () => {
      // ada.analyst is a developer of the exercise project.
      const before = await read(deepProject);
      const { status, body } = await put(deepProject, { description: 'x' }, bearer(tokens.ada));
      expect(status).toBe(403);
      expect(body).toEqual({ message: '403 Forbidden' });
      expect((await read(deepProject)).description).toBe(before.description);
    });

    it('refuses a guest of a private project with 403', async () => {
      const { status } = await put(privateProject, { description: 'x' }, bearer(tokens.benApi));
      expect(status).toBe(403);
    });

    it('refuses a token without the api scope with 403 insufficient_scope', async () => {
      const { status, body } = await put(deepProject, { description: 'x' }, bearer(tokens.ben));
      expect(status).toBe(403);
      expect(body.error).toBe('insufficient_scope');
    });

    it('asks anonymous callers to authenticate with 401', async () => {
      const { status, body } = await put(demo, { description: 'x' });
      expect(status).toBe(401);
      expect(body).toEqual({ message: '401 Unauthorized' });
    });

    it('answers 404 for a project the caller cannot see, as for one that does not exist', async () => {
      const hidden = await put(bensPrivateProject, { description: 'x' }, bearer(tokens.ada));
      expect(hidden).toEqual({ status: 404, body: { message: '404 Project Not Found' } });
      const missing = await put(
        'ada.analyst/nothing-here',
        { description: 'x' },
        bearer(tokens.ada),
      );
      expect(missing.status).toBe(404);
    });

    it('refuses an unknown visibility and an empty change with 400', async () => {
      const bad = await put(demo, { visibility: 'secret' }, bearer(tokens.ada));
      expect(bad).toEqual({
        status: 400,
        body: { error: 'visibility does not have a valid value' },
      });
      const empty = await put(demo, {}, bearer(tokens.ada));
      expect(empty.status).toBe(400);
      expect(empty.body.error).toMatch(/at least one parameter must be provided/);
    });
  });
});

// The renku 2.x demo's GitLab project is made from its repository
// (demo/bike-counts/gitlab-seed.mjs): the stand-in's commits, tree and files must be the
// bundle's own, the ones sessions check out.
describe('GitLab stand-in: the demo ada.analyst/bike-counts', () => {
  const project = encodeURIComponent('ada.analyst/bike-counts');
  let gitlab: GitLabStandin;
  let repository: string;

  beforeAll(async () => {
    gitlab = await startGitLabStandin({ log: createLogger('gitlab-standin', 'silent') });
    repository = fs.mkdtempSync(path.join(os.tmpdir(), 'bike-counts-'));
    execFileSync('git', [
      'clone',
      '--quiet',
      '--bare',
      path.join(__dirname, '../../demo/bike-counts/repository.bundle'),
      repository,
    ]);
  });

  afterAll(async () => {
    await gitlab?.stop();
    if (repository) fs.rmSync(repository, { recursive: true, force: true });
  });

  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repository, ...args], { encoding: 'buffer' });
  const get = async (apiPath: string) =>
    (await fetch(`${gitlab.url}/api/v4/projects/${project}${apiPath}`)).json() as Promise<any>;

  it("lists the repository's commits of master, newest first", async () => {
    const commits = await get('/repository/commits?per_page=100');
    expect(commits.map((commit: { id: string }) => commit.id)).toEqual(
      git('rev-list', 'master').toString().trim().split('\n'),
    );
  });

  it("holds the repository's tree at master, object ids included", async () => {
    const tree = await get('/repository/tree?recursive=true&per_page=100');
    const listed = git('ls-tree', '-r', '-t', 'master')
      .toString()
      .trim()
      .split('\n')
      .map((line) => {
        const [mode, type, id, filePath] = line.split(/\s+/);
        return { id, type, path: filePath, mode };
      });
    const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
    expect(
      tree
        .map(({ id, type, path: filePath, mode }: any) => ({ id, type, path: filePath, mode }))
        .sort(byPath),
    ).toEqual(listed.sort(byPath));
  });

  it('serves a binary file of the renku metadata byte for byte', async () => {
    const filePath = git('ls-tree', '-r', '--name-only', 'master', '.renku/metadata/activities')
      .toString()
      .trim();
    const file = await get(`/repository/files/${encodeURIComponent(filePath)}?ref=master`);
    expect(Buffer.from(file.content, 'base64')).toEqual(git('show', `master:${filePath}`));
  });
});
