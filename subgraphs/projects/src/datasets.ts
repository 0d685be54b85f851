import type { Logger } from '@renku-supergraph/kit';

import { projectFields } from './catalogue';
import {
  datasetFields,
  toDataset,
  toDatasetFile,
  type Dataset,
  type DatasetFile,
  type DatasetKey,
} from './dataset';
import type { GraphReader } from './neo4j';
import { toProject, type Project, type ProjectRow, type Visibility } from './project';

/** How `dataset(projectPath, ...)` and the reference resolver name a dataset. */
export interface DatasetLookup {
  projectPath: string;
  by: 'identifier' | 'slug';
  value: string;
}

/** A dataset with the visibility of the project it lives in, for the caller's check. */
export interface FoundDataset {
  dataset: Dataset;
  visibility: Visibility;
}

// The versions that still count: not invalidated, and no later version derived from them.
const current = `d.invalidatedAt IS NULL
  AND NOT EXISTS { MATCH (newer:Dataset {projectPath: d.projectPath}) WHERE newer.derivedFrom = d.id }`;

// From the project, whose path is indexed, rather than by the datasets' own properties.
const ofProjectsCypher = `
UNWIND $paths AS path
MATCH (:Project {path: path})<-[:IN_PROJECT]-(d:Dataset {projectPath: path})
WHERE ${current}
WITH path, d ORDER BY toLower(coalesce(d.name, d.slug, d.identifier)), d.id
RETURN path, collect(${datasetFields}) AS datasets`;

// Several versions may share a slug; the current one wins, then the latest.
const lookupCypher = `
UNWIND range(0, size($lookups) - 1) AS i
WITH i, $lookups[i] AS lookup
MATCH (:Project {path: lookup.projectPath})<-[:IN_PROJECT]-(d:Dataset {projectPath: lookup.projectPath})
WHERE (lookup.by = 'identifier' AND d.identifier = lookup.value)
   OR (lookup.by = 'slug' AND d.slug = lookup.value)
WITH i, d ORDER BY d.invalidatedAt IS NULL DESC, d.createdAt DESC, d.id
WITH i, head(collect(d)) AS d
MATCH (d)-[:IN_PROJECT]->(p:Project)
RETURN i, ${datasetFields} AS dataset, p.visibility AS visibility`;

const filesCypher = `
UNWIND range(0, size($keys) - 1) AS i
MATCH (d:Dataset {projectPath: $keys[i].projectPath, id: $keys[i].id})-[part:HAS_PART]->(f:File)
WHERE part.invalidatedAt IS NULL
WITH i, f, part ORDER BY f.path
RETURN i, collect({location: f.path, addedAt: part.addedAt, source: part.source}) AS files`;

// Three lookups instead of one OR, so that each uses its index (004-search.cypher).
const usedInCypher = `
UNWIND range(0, size($origins) - 1) AS i
CALL (i) {
  MATCH (d:Dataset {sameAs: $origins[i]}) RETURN d
  UNION
  MATCH (d:Dataset {initialVersion: $origins[i]}) RETURN d
  UNION
  MATCH (d:Dataset {identifier: $origins[i]}) WHERE d.initialVersion IS NULL RETURN d
}
MATCH (d)-[:IN_PROJECT]->(p:Project)
WITH DISTINCT i, p ORDER BY p.path
RETURN i, collect(${projectFields}) AS projects`;

/** The data source for datasets: one query per batch, whatever the batch's size. */
export class Datasets {
  constructor(
    private readonly graph: GraphReader,
    private readonly log: Logger,
  ) {}

  /** The current datasets of each project, by name; whether the caller may see is not checked. */
  async ofProjects(paths: readonly string[]): Promise<Map<string, Dataset[]>> {
    this.log.debug({ cypher: ofProjectsCypher, paths: paths.length }, 'datasets of projects');
    const records = await this.graph.read('datasets of projects', async (tx) => {
      return (await tx.run(ofProjectsCypher, { paths })).records;
    });
    return new Map(
      records.map((record) => [
        record.get('path') as string,
        (record.get('datasets') as Record<string, unknown>[]).map((row) =>
          toDataset(row, this.log),
        ),
      ]),
    );
  }

  /** Answers in the order of `lookups`; undefined where no dataset matches. */
  async lookUp(lookups: readonly DatasetLookup[]): Promise<(FoundDataset | undefined)[]> {
    this.log.debug({ cypher: lookupCypher, lookups: lookups.length }, 'datasets by key');
    const records = await this.graph.read('datasets by key', async (tx) => {
      return (await tx.run(lookupCypher, { lookups })).records;
    });

    const found: (FoundDataset | undefined)[] = lookups.map(() => undefined);
    for (const record of records) {
      found[record.get('i') as number] = {
        dataset: toDataset(record.get('dataset') as Record<string, unknown>, this.log),
        visibility: record.get('visibility') as Visibility,
      };
    }
    return found;
  }

  /** The files each dataset holds now, by path, in the order of `keys`. */
  async files(keys: readonly DatasetKey[]): Promise<DatasetFile[][]> {
    this.log.debug({ cypher: filesCypher, keys: keys.length }, 'files of datasets');
    const records = await this.graph.read('files of datasets', async (tx) => {
      return (await tx.run(filesCypher, { keys })).records;
    });

    const files: DatasetFile[][] = keys.map(() => []);
    for (const record of records) {
      files[record.get('i') as number] = (record.get('files') as Record<string, unknown>[]).map(
        (row) => toDatasetFile(row, this.log),
      );
    }
    return files;
  }

  /** The projects holding a copy of each origin (see `Dataset.origin`), by path. */
  async usedIn(origins: readonly string[]): Promise<Project[][]> {
    this.log.debug({ cypher: usedInCypher, origins: origins.length }, 'projects using datasets');
    const records = await this.graph.read('projects using datasets', async (tx) => {
      return (await tx.run(usedInCypher, { origins })).records;
    });

    const projects: Project[][] = origins.map(() => []);
    for (const record of records) {
      projects[record.get('i') as number] = (record.get('projects') as ProjectRow[]).map((row) =>
        toProject(row, this.log),
      );
    }
    return projects;
  }
}
