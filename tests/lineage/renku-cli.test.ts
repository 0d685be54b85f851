import { createLogger, type Running } from '@renku-supergraph/kit';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';

import { provisionNeo4j, startNeo4j } from '../../stack/src/services/neo4j';
import { provisionRenkuCli, renkuCli } from '../../stack/src/services/renku-cli';
import { sleep } from '../../stack/src/process';
import { applyGraphSchema } from '../../subgraphs/lineage/src/graph-schema';
import { findImpact } from '../../subgraphs/lineage/src/impact';
import { activateLineage, startLineageSubgraph } from '../../subgraphs/lineage/src/index';
import { ingestDocument } from '../../subgraphs/lineage/src/ingest/ingest';
import {
  findLineage,
  type Lineage,
  type LineageQuery,
  traceLineages,
  type TracedNode,
} from '../../subgraphs/lineage/src/lineage';
import { findRun } from '../../subgraphs/lineage/src/runs';
import { ExportError, renkuExporter } from '../../subgraphs/lineage/src/webhooks/renku-export';
import {
  findWorkflowGraphs,
  type WorkflowGraphQuery,
} from '../../subgraphs/lineage/src/workflow-graph';
import { startGitHttpServer, type GitHttpServer } from './git-http-server';
import { dotEdges, makeRenkuProject, outdatedOutputs, type RenkuProject } from './renku-project';

const log = createLogger('lineage-test', 'warn');
const anonymous = { kind: 'anonymous' } as const;
const atRuns = 'ada.analyst/flights';
const atModified = 'ada.analyst/flights-modified';

let dataDir: string;
let database: Awaited<ReturnType<typeof startNeo4j>>;
let driver: Driver;
let project: RenkuProject;

beforeAll(async () => {
  await Promise.all([provisionNeo4j(), provisionRenkuCli()]);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'lineage-renku-'));
  const [started, made] = await Promise.all([
    startNeo4j({ dataDir: path.join(dataDir, 'neo4j') }),
    makeRenkuProject(dataDir, renkuCli()),
  ]);
  database = started;
  project = made;
  driver = neo4j.driver(database.url);
  await applyGraphSchema(driver, log);
  await ingestDocument(driver, { projectPath: atRuns, visibility: 'public' }, project.exports.runs);
  await ingestDocument(
    driver,
    { projectPath: atModified, visibility: 'public' },
    project.exports.modified,
  );
});

afterAll(async () => {
  await driver?.close();
  await database?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The nodes of a lineage with what the answer knows beyond renku's fields (their commits). */
async function tracedNodes(query: LineageQuery): Promise<TracedNode[]> {
  const [answer] = await traceLineages(driver, anonymous, [query]);
  if (answer instanceof Error) throw answer;
  return answer.nodes;
}

/** Edges with runs named by their command line, as renku's own DOT names them. */
function labelledEdges(lineage: Lineage): string[] {
  const labels = new Map(lineage.nodes.map((node) => [node.id, node.label]));
  return lineage.edges
    .map((edge) => `${labels.get(edge.source)} -> ${labels.get(edge.target)}`)
    .sort();
}

describe('renku 2.x metadata made by the real renku CLI', () => {
  it.each(['count.txt', 'joined.csv', 'left.csv'])(
    'gives the upstream lineage of %s that `renku workflow visualize` draws',
    async (file) => {
      const lineage = await findLineage(driver, anonymous, {
        projectPath: atRuns,
        filePath: file,
        direction: 'UPSTREAM',
      });
      expect(labelledEdges(lineage)).toEqual(dotEdges(project.visualized[file]));
    },
  );

  it('finds both paths of the diamond and only the latest producer of a re-generated output', async () => {
    const lineage = await findLineage(driver, anonymous, {
      projectPath: atRuns,
      filePath: 'data/raw.csv',
      direction: 'DOWNSTREAM',
    });
    const runs = lineage.nodes.filter((node) => node.type === 'ProcessRun').map((n) => n.label);
    expect(runs.sort()).toEqual([
      'cat right.csv left.csv > joined.csv',
      'head -n 2 data/raw.csv > left.csv',
      'tail -n 2 data/raw.csv > right.csv',
      'wc -l joined.csv > count.txt',
    ]);
    // The first join read left.csv and right.csv too, but rejoin wrote joined.csv after it:
    // renku draws the same from data/raw.csv.
    expect(labelledEdges(lineage)).toEqual(dotEdges(project.visualized['--from data/raw.csv']));
  });

  it('finds exactly the outputs `renku status` calls outdated after an input changed', async () => {
    const expected = outdatedOutputs(project.status);
    expect(expected).toEqual(['count.txt', 'joined.csv', 'left.csv', 'right.csv']);
    const impact = await findImpact(driver, anonymous, {
      projectPath: atModified,
      filePath: 'data/raw.csv',
    });
    expect(impact.map((file) => file.path).sort()).toEqual(expected);
    expect(impact.map((file) => [file.path, file.distance])).toEqual([
      ['left.csv', 1],
      ['right.csv', 1],
      ['joined.csv', 2],
      ['count.txt', 3],
    ]);
  });

  it('tells a run with its plan, arguments and values, times and who ran it', async () => {
    const lineage = await findLineage(driver, anonymous, {
      projectPath: atRuns,
      filePath: 'left.csv',
      direction: 'UPSTREAM',
    });
    const head = lineage.nodes.find((node) => node.type === 'ProcessRun')!;
    const run = await findRun(driver, anonymous, atRuns, head.id);
    expect(run).toMatchObject({
      id: head.id,
      command: 'head -n 2 data/raw.csv > left.csv',
      plan: { name: 'left', command: 'head' },
      inputs: [{ path: 'data/raw.csv', type: 'File' }],
      outputs: [{ path: 'left.csv', type: 'File' }],
      agents: [{ name: 'Ada Analyst', email: 'ada.analyst@example.org' }],
    });
    expect(run.arguments.map((arg) => [arg.kind, arg.prefix, arg.value, arg.stream])).toEqual([
      ['PARAMETER', '-n ', '2', null],
      ['INPUT', null, 'data/raw.csv', null],
      ['OUTPUT', null, 'left.csv', 'stdout'],
    ]);
    expect(run.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(run.endedAt! >= run.startedAt!).toBe(true);
  });

  it('leaves the commits of a 2.x export ingested as it is unknown, as a posted export gives none', async () => {
    const nodes = await tracedNodes({
      projectPath: atRuns,
      filePath: 'joined.csv',
      direction: 'UPSTREAM',
    });
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.map((node) => node.commit)).toEqual(nodes.map(() => null));
  });

  it('pages through the whole workflow graph in the order the runs started', async () => {
    const findWorkflowGraph = async (query: WorkflowGraphQuery) => {
      const [graph] = await findWorkflowGraphs(driver, anonymous, [query]);
      if (graph instanceof Error) throw graph;
      return graph;
    };
    const first = await findWorkflowGraph({ projectPath: atRuns, first: 3 });
    expect(first.totalCount).toBe(5);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await findWorkflowGraph({
      projectPath: atRuns,
      first: 3,
      after: first.pageInfo.endCursor,
    });
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect([...first.runs, ...rest.runs].map((run) => run.command)).toEqual([
      'head -n 2 data/raw.csv > left.csv',
      'tail -n 2 data/raw.csv > right.csv',
      'cat left.csv right.csv > joined.csv',
      'wc -l joined.csv > count.txt',
      'cat right.csv left.csv > joined.csv',
    ]);
    // The history keeps both writers of joined.csv.
    const writers = [...first.edges, ...rest.edges].filter((edge) => edge.target === 'joined.csv');
    expect(writers).toHaveLength(2);
  });
});

describe('a GitLab push when the renku CLI is installed', () => {
  const pushedPath = 'ada.analyst/flights-pushed';
  let running: Running;
  /** The status of the push of the `runs` commit to `pushedPath`. */
  let pushed: Record<string, unknown>;

  beforeAll(async () => {
    running = await startLineageSubgraph(
      {
        port: 0,
        host: '127.0.0.1',
        neo4j: { uri: database.url },
        webhooks: {
          pollMs: 200,
          renkuCommand: renkuCli().command,
          cloneUrlPrefixes: [`file://${dataDir}/`],
        },
      },
      log,
    );
    pushed = await pushAndWait(pushedPath, `file://${project.dir}`, project.commits.runs);
    await driver.executeQuery("MATCH (p:Project {path: $pushedPath}) SET p.visibility = 'public'", {
      pushedPath,
    });
  });

  afterAll(async () => {
    await running?.stop();
  });

  async function pushAndWait(projectPath: string, gitUrl: string, after: string) {
    const secret = await activateLineage(driver, projectPath);
    const response = await fetch(running.url.replace(/\/graphql$/, '/webhooks/gitlab'), {
      method: 'POST',
      headers: { 'x-gitlab-token': secret, 'x-gitlab-event': 'Push Hook' },
      body: JSON.stringify({
        object_kind: 'push',
        after,
        ref: 'refs/heads/master',
        project: { id: 7, path_with_namespace: projectPath, git_http_url: gitUrl },
      }),
    });
    expect(response.status).toBe(202);
    for (let waited = 0; waited < 120_000; waited += 500) {
      const session = driver.session();
      try {
        const result = await session.run(
          `MATCH (e:IngestEvent {projectPath: $projectPath})
           WHERE e.status IN ['done', 'failed'] RETURN e.status AS status, e.message AS message`,
          { projectPath },
        );
        if (result.records.length > 0) return result.records[0].toObject();
      } finally {
        await session.close();
      }
      await sleep(500);
    }
    throw new Error('the push was not processed in time');
  }

  it('clones the commit, exports it with renku and ingests it', async () => {
    expect(pushed).toEqual({
      status: 'done',
      message: expect.stringMatching(
        new RegExp(`^ingested commit ${project.commits.runs}: 5 runs`),
      ),
    });
    const lineage = await findLineage(driver, anonymous, {
      projectPath: pushedPath,
      filePath: 'count.txt',
      direction: 'UPSTREAM',
    });
    expect(labelledEdges(lineage)).toEqual(dotEdges(project.visualized['count.txt']));
  });

  it('names the commit that made each 2.x run and file version, found in the clone (#6)', async () => {
    const projectPath = pushedPath;
    const runs = await driver.executeQuery(
      `MATCH (run:Run {projectPath: $projectPath})-[:FOLLOWED]->(plan:Plan)
       RETURN plan.name AS name, run.commit AS commit ORDER BY name`,
      { projectPath },
    );
    const { left, right, join, count, rejoin } = project.commits;
    expect(runs.records.map((record) => record.toObject())).toEqual([
      { name: 'count', commit: count },
      { name: 'join', commit: join },
      { name: 'left', commit: left },
      { name: 'rejoin', commit: rejoin },
      { name: 'right', commit: right },
    ]);

    // Every version's commit holds exactly that version: git's blob there is its checksum.
    const files = await driver.executeQuery(
      `MATCH (file:File {projectPath: $projectPath})
       RETURN file.path AS path, file.checksum AS checksum, file.commit AS commit`,
      { projectPath },
    );
    expect(files.records.length).toBeGreaterThan(5);
    for (const file of files.records.map((record) => record.toObject())) {
      const blob = execFileSync('git', [
        '-C',
        project.dir,
        'rev-parse',
        `${file.commit}:${file.path}`,
      ]);
      expect([file.path, blob.toString().trim()]).toEqual([file.path, file.checksum]);
    }

    // The lineage names the commit of the latest producer of joined.csv, not the first one.
    const nodes = await tracedNodes({
      projectPath,
      filePath: 'joined.csv',
      direction: 'UPSTREAM',
      depth: 1,
    });
    const commits = Object.fromEntries(nodes.map((node) => [node.label, node.commit]));
    expect(commits).toEqual({
      'cat right.csv left.csv > joined.csv': rejoin,
      'joined.csv': rejoin,
      'left.csv': left,
      'right.csv': right,
    });
  });

  it('fails a push naming a repository outside the allowed prefixes without cloning', async () => {
    const event = await pushAndWait(
      'ada.analyst/flights-elsewhere',
      'file:///etc/',
      project.commits.runs,
    );
    expect(event).toEqual({
      status: 'failed',
      message: 'failed after 1 attempt(s): cloning from "file:///etc/" is not allowed here',
    });
  });
});

describe('the repository of a private project on GitLab', () => {
  const token = 'glpat-lineage-clone-token';
  const repository = 'ada.analyst/flights.git';
  let git: GitHttpServer;
  let root: string;

  beforeAll(async () => {
    root = path.join(dataDir, 'gitlab-repositories');
    execFileSync('git', ['clone', '--quiet', '--bare', project.dir, path.join(root, repository)]);
    git = await startGitHttpServer(root, token);
  });

  afterAll(async () => {
    await git?.stop();
  });

  const exportWith = (gitlab?: { url: string; serviceToken: string }) =>
    renkuExporter({
      renkuCommand: renkuCli().command,
      allowedUrlPrefixes: [`${git.url}/`],
      gitlab,
    }).exportCommit(`${git.url}/${repository}`, project.commits.runs);

  it('is cloned with the service token of GITLAB_URL, and exported with its commits', async () => {
    const read = await exportWith({ url: `${git.url}/`, serviceToken: token });

    const commands = read.provenance.runs.map((run) => [run.commandLine, run.commit]);
    expect(commands).toContainEqual([
      'cat right.csv left.csv > joined.csv',
      project.commits.rejoin,
    ]);
    expect(git.authorizations.length).toBeGreaterThan(0);
  });

  it("is refused with a wrong token, and git's message does not show the token", async () => {
    const wrong = 'glpat-not-the-service-token';
    const refused = await exportWith({ url: git.url, serviceToken: wrong }).catch((e) => e);

    expect(refused).toBeInstanceOf(ExportError);
    expect(refused.message).toMatch(/^git clone exited with 128: fatal: /);
    expect(refused.message).not.toContain(wrong);
    expect(refused.message).not.toContain(Buffer.from(`oauth2:${wrong}`).toString('base64'));
  });

  it('follows no redirect away from GITLAB_URL, which would take the token along', async () => {
    // GitLab's origin answering every request with a redirect to a server that serves anyone.
    const elsewhere = await startGitHttpServer(root);
    const redirecting = http.createServer((req, res) => {
      res.writeHead(302, { location: `${elsewhere.url}${req.url}` });
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const gitlabUrl = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
    try {
      const cloned = renkuExporter({
        renkuCommand: renkuCli().command,
        allowedUrlPrefixes: [`${gitlabUrl}/`],
        gitlab: { url: gitlabUrl, serviceToken: token },
      }).exportCommit(`${gitlabUrl}/${repository}`, project.commits.runs);

      await expect(cloned).rejects.toThrow(ExportError);
      expect(elsewhere.authorizations.every((header) => header === undefined)).toBe(true);
    } finally {
      redirecting.closeAllConnections();
      await new Promise((resolve) => redirecting.close(resolve));
      await elsewhere.stop();
    }
  });

  it('never sends the token to an origin other than GITLAB_URL', async () => {
    git.authorizations.length = 0;
    // The same host on another port is another origin.
    const elsewhere = `http://127.0.0.1:${Number(new URL(git.url).port) + 1}`;

    await expect(exportWith({ url: elsewhere, serviceToken: token })).rejects.toThrow(ExportError);
    expect(git.authorizations.length).toBeGreaterThan(0);
    expect(git.authorizations.every((header) => header === undefined)).toBe(true);
  });
});
