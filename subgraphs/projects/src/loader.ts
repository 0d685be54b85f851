import DataLoader from 'dataloader';

import type { Catalogue } from './catalogue';
import type { Project } from './project';
import { canSee, type Caller } from './visibility';

export type ProjectLoader = DataLoader<string, Project | null>;

/**
 * Loads projects by path for one request: the representations of one `_entities` call and
 * every `project(path)` of the operation become a single Neo4j query. Made per request,
 * because its cache holds what this caller may see.
 */
export function createProjectLoader(catalogue: Catalogue, caller: Caller): ProjectLoader {
  return new DataLoader(async (paths) => {
    const found = await catalogue.byPaths(paths);

    // DataLoader wants answers in the order of the keys; Neo4j returns rows in its own.
    return paths.map((path) => {
      const project = found.get(path);
      return project !== undefined && canSee(caller, project) ? project : null;
    });
  });
}
