import { apiError, ErrorCode } from '@renku-supergraph/kit';
import { type Driver, type ManagedTransaction, Neo4jError } from 'neo4j-driver';

import { withSession } from '../neo4j';
import { readRenkuExport, type RenkuExport } from './read';
import { type BatchWriter, planOnce, writeProvenance } from './write-provenance';

export type Visibility = 'public' | 'internal' | 'private';

export interface IngestTarget {
  /** `namespace/name`, e.g. `ada.analyst/tutorial-zhbikes`. */
  projectPath: string;
  /** Set on every ingestion when given; a new project without it is `private`. */
  visibility?: Visibility;
  /** Set when given; else the name the export gives (2.x), else the path's last segment. */
  name?: string;
}

export interface IngestSummary {
  runs: number;
  entities: number;
  datasets: number;
}

export interface IngestOptions {
  /** More writes that must commit with the document or not at all (an event's status). */
  inTransaction?: (tx: ManagedTransaction, summary: IngestSummary) => Promise<void>;
}

const visibilities: readonly string[] = ['public', 'internal', 'private'];
// Rows a statement takes at once: large enough that round trips and per-statement work do not
// count, small enough to keep each statement's parameters a few MB.
const batchSize = 5000;

/**
 * Ingests one renku JSON-LD export into the graph: all of it in one write
 * transaction, or nothing when the document is invalid. What the graph holds
 * already is merged on identifiers, what it does not is created, so ingesting
 * the same document again changes nothing.
 */
export async function ingestDocument(
  driver: Driver,
  target: IngestTarget,
  document: unknown,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  checkTarget(target);
  return ingestExport(driver, target, await readRenkuExport(document), options);
}

/**
 * Writes an export already read into records, in one write transaction. The bulk path of the
 * scale benchmark (`bench/lineage/`) comes in here with generated records.
 */
export async function ingestExport(
  driver: Driver,
  target: IngestTarget,
  read: RenkuExport,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  checkTarget(target);
  const summary = {
    runs: read.provenance.runs.length,
    entities: read.provenance.files.length,
    datasets: read.datasets.length,
  };
  const attempt = (mergeOnly: boolean) =>
    withSession(driver, (session) =>
      session.executeWrite(async (tx) => {
        const write = batchWriter(tx, target.projectPath);
        await writePersons(write, read);
        await writeProject(tx, target, read);
        await writeProvenance(tx, write, target.projectPath, read.provenance, mergeOnly);
        await writeDatasets(write, read);
        await options.inTransaction?.(tx, summary);
      }),
    );
  try {
    await attempt(false);
  } catch (error) {
    // Another transaction created a run or file this one took for new (ingestions of one
    // project wait for each other on the project node, other writers need not). The
    // uniqueness constraint refused the copy and nothing was written: merge everything now.
    if (!isUniquenessRace(error)) throw error;
    await attempt(true);
  }
  return summary;
}

function isUniquenessRace(error: unknown): boolean {
  return (
    error instanceof Neo4jError &&
    error.code === 'Neo.ClientError.Schema.ConstraintValidationFailed'
  );
}

function checkTarget(target: IngestTarget): void {
  if (!/^[^/\s]+(\/[^/\s]+)+$/.test(target.projectPath)) {
    throw apiError(
      ErrorCode.BadUserInput,
      `project path "${target.projectPath}" is not of the form namespace/name`,
    );
  }
  if (target.visibility !== undefined && !visibilities.includes(target.visibility)) {
    throw apiError(
      ErrorCode.BadUserInput,
      `visibility "${target.visibility}" is not one of ${visibilities.join(', ')}`,
    );
  }
}

/** Runs a statement over rows in batches (`UNWIND $rows`), all in the one transaction. */
function batchWriter(tx: ManagedTransaction, projectPath: string): BatchWriter {
  return async (cypher, rows) => {
    const returned = [];
    for (let start = 0; start < rows.length; start += batchSize) {
      const result = await tx.run(`${planOnce}\n${cypher}`, {
        project: projectPath,
        rows: rows.slice(start, start + batchSize),
      });
      returned.push(...result.records.map((record) => record.toObject()));
    }
    return returned;
  };
}

async function writePersons(write: BatchWriter, read: RenkuExport) {
  await write(
    `UNWIND $rows AS row
     MERGE (person:Person {id: row.id})
     SET person.name = coalesce(row.name, person.name), person.email = coalesce(row.email, person.email)`,
    read.persons,
  );
}

/**
 * The project node the projects subgraph reads. Given settings win, then what
 * the export says (2.x), then what can be derived (slug, first and last run).
 */
async function writeProject(tx: ManagedTransaction, target: IngestTarget, read: RenkuExport) {
  const { provenance, project } = read;
  const slug = target.projectPath.split('/').at(-1) as string;
  const createdAt = project?.createdAt ?? provenance.firstActivityAt;
  await tx.run(
    `${planOnce}
     MERGE (project:Project {path: $path})
     ON CREATE SET project.slug = $slug, project.visibility = 'private', project.keywords = []
     SET project.name = coalesce($name, project.name, $slug),
         project.visibility = coalesce($visibility, project.visibility),
         project.description = coalesce($description, project.description),
         project.keywords = CASE WHEN size($keywords) > 0 THEN $keywords ELSE project.keywords END,
         project.createdAt = CASE WHEN project.createdAt IS NULL OR project.createdAt > $createdAt
                                  THEN $createdAt ELSE project.createdAt END,
         project.modifiedAt = CASE
                                WHEN project.modifiedAt IS NULL OR project.modifiedAt < $modifiedAt
                                THEN $modifiedAt ELSE project.modifiedAt END
     WITH project
     UNWIND $creatorIds AS creatorId
     MATCH (creator:Person {id: creatorId})
     MERGE (project)-[:CREATED_BY]->(creator)`,
    {
      path: target.projectPath,
      slug,
      name: target.name ?? project?.name ?? null,
      visibility: target.visibility ?? null,
      description: project?.description ?? null,
      keywords: project?.keywords ?? [],
      createdAt,
      modifiedAt: provenance.lastActivityAt ?? createdAt,
      creatorIds: project?.creatorIds ?? [],
    },
  );
}

async function writeDatasets(write: BatchWriter, { datasets }: RenkuExport) {
  await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     MERGE (dataset:Dataset {projectPath: $project, id: row.id})
     SET dataset.identifier = row.identifier, dataset.name = row.name, dataset.slug = row.slug,
         dataset.description = row.description, dataset.keywords = row.keywords,
         dataset.createdAt = row.createdAt, dataset.publishedAt = row.publishedAt,
         dataset.modifiedAt = row.modifiedAt, dataset.invalidatedAt = row.invalidatedAt,
         dataset.sameAs = row.sameAs, dataset.derivedFrom = row.derivedFrom
     MERGE (dataset)-[:IN_PROJECT]->(project)
     WITH dataset, row
     CALL (dataset, row) {
       UNWIND row.creatorIds AS creatorId
       MATCH (creator:Person {id: creatorId})
       MERGE (dataset)-[:CREATED_BY]->(creator)
     }
     WITH dataset, row
     UNWIND row.parts AS part
     MATCH (file:File {projectPath: $project, id: part.fileId})
     MERGE (dataset)-[hasPart:HAS_PART]->(file)
     SET hasPart.addedAt = part.addedAt, hasPart.invalidatedAt = part.invalidatedAt,
         hasPart.source = part.source`,
    datasets,
  );
}
