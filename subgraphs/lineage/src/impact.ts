import type { Driver } from 'neo4j-driver';

import type { Viewer } from './authorize';
import { findLineage, type Lineage, type LineageNodeType } from './lineage';

export interface ImpactedFile {
  projectPath: string;
  path: string;
  type: Exclude<LineageNodeType, 'ProcessRun'>;
  /** Runs between the changed file and this output, 1 for a direct output. */
  distance: number;
  /** The run that would have to run again first (the output's latest producer). */
  producerId: string;
}

/**
 * Every output that is outdated when this file changes, as `renku status` would list it: the
 * outputs of every run that used the file, where that run is still the output's latest
 * producer, and so on downstream. Same visibility and NOT_FOUND rules as lineage.
 */
export async function findImpact(
  driver: Driver,
  viewer: Viewer,
  query: { projectPath: string; filePath: string },
): Promise<ImpactedFile[]> {
  return impactOf(await findLineage(driver, viewer, impactQuery(query)), query);
}

/** The lineage an impact is read from: downstream, in the project only. */
export function impactQuery(query: { projectPath: string; filePath: string }) {
  return { ...query, direction: 'DOWNSTREAM', acrossProjects: false } as const;
}

/** The impact of a file, read from its downstream lineage (`impactQuery`). */
export function impactOf(
  lineage: Lineage,
  query: { projectPath: string; filePath: string },
): ImpactedFile[] {
  const start = lineage.nodes.find((node) => node.type !== 'ProcessRun' && isStart(node.id));
  const types = new Map(lineage.nodes.map((node) => [node.id, node.type]));

  // Breadth first from the file: each round crosses one run.
  const impacted = new Map<string, ImpactedFile>();
  let frontier = new Set([start?.id ?? query.filePath]);
  for (let distance = 1; frontier.size > 0; distance++) {
    const next = new Set<string>();
    for (const edge of lineage.edges) {
      if (!frontier.has(edge.source)) continue;
      for (const out of lineage.edges.filter((e) => e.source === edge.target)) {
        if (impacted.has(out.target) || out.target === start?.id) continue;
        impacted.set(out.target, {
          projectPath: query.projectPath,
          path: out.target,
          type: types.get(out.target) === 'Directory' ? 'Directory' : 'File',
          distance,
          producerId: out.source,
        });
        next.add(out.target);
      }
    }
    frontier = next;
  }
  return [...impacted.values()].sort(
    (a, b) => a.distance - b.distance || a.path.localeCompare(b.path),
  );

  function isStart(id: string) {
    return id === query.filePath.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  }
}
