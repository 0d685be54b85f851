// Where the time of one lineage request goes: the Cypher statements the lineage subgraph runs
// for it (recorded in this process, whatever lineage.ts does at the time), each run again
// with PROFILE for Neo4j's own figures.
import { rootRequire } from '../root-require.mjs';

const neo4j = rootRequire('neo4j-driver');

let recording = null;
const originalRun = neo4j.ManagedTransaction.prototype.run;
neo4j.ManagedTransaction.prototype.run = function run(query, parameters) {
  recording?.push({ query, parameters });
  return originalRun.call(this, query, parameters);
};

/** Sends one request and returns the statements it ran. */
export async function recordStatements(url, body) {
  recording = [];
  const begin = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await response.json();
    return { statements: recording, ms: performance.now() - begin };
  } finally {
    recording = null;
  }
}

function operators(plan, into = []) {
  into.push({ operator: plan.operatorType, dbHits: plan.dbHits, rows: plan.rows });
  plan.children.forEach((child) => operators(child, into));
  return into;
}

/**
 * Replays each recorded statement: once plain, timed by the server (available + consumed), and
 * once with PROFILE for database hits. Both in read transactions on a warm page cache.
 */
export async function profileStatements(driver, statements) {
  const session = driver.session({ defaultAccessMode: neo4j.session.READ });
  const rows = [];
  try {
    for (const { query, parameters } of statements) {
      const plain = await session.executeRead((tx) => tx.run(query, parameters));
      const profiled = await session.executeRead((tx) => tx.run(`PROFILE ${query}`, parameters));
      const ops = operators(profiled.summary.profile);
      const toNumber = (value) => neo4j.integer.toNumber(value);
      rows.push({
        statement: query.replace(/\s+/g, ' ').trim().slice(0, 90),
        serverMs:
          toNumber(plain.summary.resultAvailableAfter) +
          toNumber(plain.summary.resultConsumedAfter),
        records: plain.records.length,
        dbHits: ops.reduce((sum, op) => sum + op.dbHits, 0),
        top: ops.sort((a, b) => b.dbHits - a.dbHits)[0]?.operator ?? '',
      });
    }
  } finally {
    await session.close();
  }
  return rows;
}

const lineageQuery = `query Lineage($projectPath: String!, $filePath: String!) {
  lineage(projectPath: $projectPath, filePath: $filePath, direction: BOTH, depth: 10) {
    nodes { id location label type }
    edges { source target }
  }
}`;

/** One depth-10 lineage straight at the subgraph, taken apart statement by statement. */
export async function profileTraversal(driver, subgraphUrl, file) {
  const { statements, ms } = await recordStatements(subgraphUrl, {
    query: lineageQuery,
    variables: file,
  });
  const rows = await profileStatements(driver, statements);
  return {
    file,
    requestMs: ms,
    statements: rows.length,
    serverMs: rows.reduce((sum, row) => sum + row.serverMs, 0),
    dbHits: rows.reduce((sum, row) => sum + row.dbHits, 0),
    rows,
  };
}
