// The operations the benchmark sends and what a complete answer to each holds.

export const fanOut = {
  name: 'fan-out: a page of 50 projects across all five subgraphs',
  query: `query ProjectPage {
  projects(first: 50) {
    totalCount
    edges { node {
      path name description visibility keywords created
      webUrl defaultBranch
      branches(first: 5) { totalCount edges { node { name default commit { shortId title } } } }
      sessions { name state url owner { username name } }
      lineage(filePath: "data/clean.csv") { nodes { id label type } edges { source target } }
    } }
  }
}`,
  isComplete: (data) =>
    data.projects?.edges?.length === 50 &&
    data.projects.edges.every(
      ({ node }) =>
        typeof node.name === 'string' &&
        node.defaultBranch === 'master' &&
        node.branches?.edges?.length === 5 &&
        node.sessions?.length === 2 &&
        node.sessions.every((s) => typeof s.owner?.name === 'string') &&
        node.lineage?.nodes?.length === 5 &&
        node.lineage.edges.length === 4,
    ),
};

/**
 * The same page query over 140 different pages, one after another: no two requests in
 * flight are alike, so a gateway cannot merge identical subgraph calls (Hive Gateway
 * deduplicates identical requests in flight, which the identical fan-out query rewards).
 */
export const fanOutPages = {
  name: 'fan-out over 140 different pages of 50 projects',
  query: fanOut.query
    .replace('query ProjectPage {', 'query ProjectPage($after: String) {')
    .replace('projects(first: 50)', 'projects(first: 50, after: $after)'),
  variants: Array.from({ length: 140 }, (_, i) => ({
    after: Buffer.from(String(i)).toString('base64'),
  })),
  isComplete: fanOut.isComplete,
};

export const small = {
  name: 'small: one project from the projects subgraph',
  query: `query OneProject {
  project(path: "group-0/project-000") { path name visibility keywords created }
}`,
  isComplete: (data) => data.project?.name === 'Project 000',
};
