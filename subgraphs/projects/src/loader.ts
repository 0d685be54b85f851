import DataLoader from 'dataloader';

import type { Catalogue } from './catalogue';
import type { Dataset, DatasetFile, DatasetKey } from './dataset';
import type { DatasetLookup, Datasets } from './datasets';
import type { Project } from './project';
import { canSee, type Caller } from './visibility';

export type ProjectLoader = DataLoader<string, Project | null>;

/**
 * Every loader of one request. Made per request, because their caches hold what this caller
 * may see.
 */
export interface Loaders {
  projects: ProjectLoader;
  /** The current datasets of a project, by project path. */
  datasetsOf: DataLoader<string, Dataset[]>;
  datasets: DataLoader<DatasetLookup, Dataset | null, string>;
  files: DataLoader<DatasetKey, DatasetFile[], string>;
  /** By `Dataset.origin`. */
  usedIn: DataLoader<string, Project[]>;
}

/**
 * Every load in one tick becomes one Neo4j query per loader: the representations of one
 * `_entities` call, every `project(path)` of an operation, the datasets of a page of projects.
 * DataLoader wants answers in the order of the keys; the data sources answer in that order.
 */
export function createLoaders(catalogue: Catalogue, datasets: Datasets, caller: Caller): Loaders {
  return {
    projects: createProjectLoader(catalogue, caller),

    // Only asked for below a project the caller may see.
    datasetsOf: new DataLoader(async (paths) => {
      const found = await datasets.ofProjects(paths);
      return paths.map((path) => found.get(path) ?? []);
    }),

    datasets: new DataLoader(
      async (lookups) => {
        const found = await datasets.lookUp(lookups);
        return found.map((each) =>
          each !== undefined &&
          canSee(caller, { visibility: each.visibility, path: each.dataset.projectPath })
            ? each.dataset
            : null,
        );
      },
      { cacheKeyFn: (lookup) => JSON.stringify([lookup.projectPath, lookup.by, lookup.value]) },
    ),

    files: new DataLoader((keys) => datasets.files(keys), {
      cacheKeyFn: (key) => JSON.stringify([key.projectPath, key.id]),
    }),

    usedIn: new DataLoader(async (origins) => {
      const found = await datasets.usedIn(origins);
      return found.map((projects) => projects.filter((project) => canSee(caller, project)));
    }),
  };
}

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
