// What the ingestion benchmarks share: writing generated segments through the lineage
// subgraph's write path, and the Neo4j process whose CPU time they read.
import fs from 'node:fs';
import path from 'node:path';

import { repoRoot, rootRequire } from '../root-require.mjs';

const { generateProvenance } = rootRequire(
  path.join(repoRoot, 'subgraphs/lineage/dist/ingest/synthetic.js'),
);

/**
 * `count` generated file versions over `projects` projects: segments of one project in order,
 * `concurrency` projects side by side, each segment one `ingestExport` transaction. `prefix`
 * renames the projects, so that a warm-up writes a graph of its own.
 */
export async function ingestSegments(driver, ingestExport, options) {
  const { count, projects, concurrency, prefix = '', seed = 7 } = options;
  const queues = Array.from({ length: concurrency }, () => []);
  for (const segment of generateProvenance({ entities: count, projects, seed })) {
    const index = Number(segment.projectPath.split('-').at(-1)) - 1;
    queues[index % concurrency].push(segment);
  }
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    queues.map(async (queue) => {
      for (const segment of queue) {
        const target = { projectPath: `${prefix}${segment.projectPath}`, visibility: 'public' };
        await ingestExport(driver, target, segment.export);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - start) / 1000, nodeCpu: (used.user + used.system) / 1e6 };
}

/** The JVM whose command line names `dataDir`: the Neo4j a benchmark started there. */
export function findNeo4jPid(dataDir) {
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (command.includes('java') && command.includes(dataDir)) return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no Neo4j process for ${dataDir}`);
}

/** User and system CPU time of a process, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
