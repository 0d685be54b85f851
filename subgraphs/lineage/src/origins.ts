import type { Driver } from 'neo4j-driver';

import { accessFields, canRead, viewerParam, type Viewer } from './authorize';
import { withSession } from './neo4j';

export interface FileOrigin {
  projectPath: string;
  path: string;
  /** The slug of the dataset in the other project. */
  dataset: string | null;
  /** How the local dataset names the other one. */
  via: 'sameAs' | 'derivedFrom';
}

/**
 * Where files of one project came from in others: a dataset imported from another renku
 * project names the original in `sameAs` (its identifier, or `.../datasets/<identifier>`), a
 * dataset made from another in `derivedFrom`; the original's file is the part with the same
 * checksum (renku 2.x), else with the same path. One hop (the lineage walk goes on by itself
 * unless told to stay in the project). Origins in projects the viewer may not read are left
 * out. Files of any projects, in one query.
 */
export async function findOrigins(
  driver: Driver,
  viewer: Viewer,
  files: readonly { projectPath: string; path: string }[],
): Promise<FileOrigin[][]> {
  const rows = await withSession(driver, (session) =>
    session.executeRead(async (tx) => {
      const result = await tx.run(
        `UNWIND $files AS key
         MATCH (file:File {projectPath: key.projectPath, path: key.path})<-[:HAS_PART]-(copy:Dataset)
         UNWIND [['sameAs', copy.sameAs], ['derivedFrom', copy.derivedFrom]] AS link
         WITH key, file, link[0] AS via, link[1] AS target
         WHERE target IS NOT NULL
         MATCH (original:Dataset)
         WHERE original.id = target OR original.identifier = last(split(target, '/datasets/'))
         MATCH (original)-[:HAS_PART]->(source:File)
         WHERE original.projectPath <> key.projectPath
           AND (original.id = target OR target ENDS WITH '/datasets/' + original.identifier)
           AND (source.checksum = file.checksum OR source.path = file.path)
         MATCH (project:Project {path: original.projectPath})
         RETURN DISTINCT key, original.projectPath AS projectPath, source.path AS sourcePath,
                original.slug AS dataset, via, ${accessFields}`,
        {
          files: files.map(({ projectPath, path }) => ({ projectPath, path })),
          ...viewerParam(viewer),
        },
      );
      return result.records.map((record) => record.toObject());
    }),
  );

  const keyOf = (file: { projectPath: string; path: string }) =>
    JSON.stringify([file.projectPath, file.path]);
  const origins = new Map<string, FileOrigin[]>(files.map((file) => [keyOf(file), []]));
  for (const row of rows) {
    const access = { visibility: row.visibility as string | null, member: row.member === true };
    if (!canRead(viewer, access)) continue;
    origins.get(keyOf(row.key))?.push({
      projectPath: row.projectPath as string,
      path: row.sourcePath as string,
      dataset: (row.dataset as string | null) ?? null,
      via: row.via as FileOrigin['via'],
    });
  }
  for (const list of origins.values()) {
    list.sort((a, b) => a.projectPath.localeCompare(b.projectPath) || a.path.localeCompare(b.path));
  }
  return files.map((file) => origins.get(keyOf(file))!);
}
