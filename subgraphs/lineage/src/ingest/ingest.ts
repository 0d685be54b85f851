import { apiError, ErrorCode } from '@renku-supergraph/kit';
import neo4j, { type Driver, type ManagedTransaction } from 'neo4j-driver';

import { withSession } from '../neo4j';
import type { ArgumentKind } from './provenance';
import { readRenkuExport, type RenkuExport } from './read';

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
const batchSize = 1000;

/**
 * Ingests one renku JSON-LD export into the graph: all of it in one write
 * transaction, or nothing when the document is invalid. Every write merges on
 * identifiers, so ingesting the same document again changes nothing.
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
  await withSession(driver, (session) =>
    session.executeWrite(async (tx) => {
      const write = batchWriter(tx, target.projectPath);
      await writePersons(write, read);
      await writeProject(tx, target, read);
      await writeProvenance(write, read);
      await writeDatasets(write, read);
      await options.inTransaction?.(tx, summary);
    }),
  );
  return summary;
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

type BatchWriter = (cypher: string, rows: object[]) => Promise<void>;

/** Runs a statement over rows in batches (`UNWIND $rows`), all in the one transaction. */
function batchWriter(tx: ManagedTransaction, projectPath: string): BatchWriter {
  return async (cypher, rows) => {
    for (let start = 0; start < rows.length; start += batchSize) {
      await tx.run(cypher, { project: projectPath, rows: rows.slice(start, start + batchSize) });
    }
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
    `MERGE (project:Project {path: $path})
     ON CREATE SET project.slug = $slug, project.visibility = 'private', project.keywords = []
     SET project.name = coalesce($name, project.name, $slug),
         project.visibility = coalesce($visibility, project.visibility),
         project.description = coalesce($description, project.description),
         project.keywords = CASE WHEN size($keywords) > 0 THEN $keywords ELSE project.keywords END,
         project.createdAt = CASE WHEN project.createdAt IS NULL OR project.createdAt > $createdAt
                                  THEN $createdAt ELSE project.createdAt END,
         project.modifiedAt = CASE WHEN project.modifiedAt IS NULL OR project.modifiedAt < $modifiedAt
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

const argumentLabels: Record<ArgumentKind, { label: string; relationship: string }> = {
  input: { label: 'Input', relationship: 'HAS_INPUT' },
  output: { label: 'Output', relationship: 'HAS_OUTPUT' },
  parameter: { label: 'Parameter', relationship: 'HAS_PARAMETER' },
};

async function writeProvenance(write: BatchWriter, { provenance: p }: RenkuExport) {
  await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     MERGE (plan:Plan {projectPath: $project, id: row.id})
     SET plan.name = row.name, plan.command = row.command
     MERGE (plan)-[:IN_PROJECT]->(project)`,
    p.plans,
  );
  for (const [kind, { label, relationship }] of Object.entries(argumentLabels)) {
    await write(
      `UNWIND $rows AS row
       MATCH (plan:Plan {projectPath: $project, id: row.planId})
       MERGE (arg:${label} {projectPath: $project, id: row.id})
       SET arg.name = row.name, arg.position = row.position, arg.prefix = row.prefix,
           arg.defaultValue = row.defaultValue, arg.mappedTo = row.mappedTo
       MERGE (plan)-[:${relationship}]->(arg)`,
      p.arguments
        .filter((arg) => arg.kind === kind)
        .map((arg) => ({
          ...arg,
          position: arg.position === null ? null : neo4j.int(arg.position),
        })),
    );
  }
  await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     MERGE (file:File {projectPath: $project, id: row.id})
     SET file.path = row.path, file.commit = row.commit, file.checksum = row.checksum,
         file.isFolder = row.isFolder
     MERGE (file)-[:IN_PROJECT]->(project)`,
    p.files,
  );
  await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     MERGE (run:Run {projectPath: $project, id: row.id})
     SET run.startedAt = row.startedAt, run.endedAt = row.endedAt, run.commit = row.commit,
         run.commandLine = row.commandLine
     MERGE (run)-[:IN_PROJECT]->(project)
     WITH run, row
     OPTIONAL MATCH (plan:Plan {projectPath: $project, id: row.planId})
     FOREACH (_ IN CASE WHEN plan IS NULL THEN [] ELSE [1] END | MERGE (run)-[:FOLLOWED]->(plan))
     WITH run, row
     UNWIND row.personIds AS personId
     MATCH (person:Person {id: personId})
     MERGE (run)-[:ASSOCIATED_WITH]->(person)`,
    p.runs,
  );
  for (const [kind, { label }] of Object.entries(argumentLabels)) {
    await write(
      `UNWIND $rows AS row
       MATCH (run:Run {projectPath: $project, id: row.runId})
       MATCH (arg:${label} {projectPath: $project, id: row.argumentId})
       MERGE (run)-[given:GAVE]->(arg)
       SET given.value = row.value`,
      p.runs.flatMap((run) =>
        run.values
          .filter((value) => value.kind === kind)
          .map((value) => ({ runId: run.id, argumentId: value.argumentId, value: value.value })),
      ),
    );
  }
  for (const [links, relationship] of [
    [p.usages, 'USED'],
    [p.generations, 'GENERATED'],
  ] as const) {
    await write(
      `UNWIND $rows AS row
       MATCH (run:Run {projectPath: $project, id: row.runId})
       MATCH (file:File {projectPath: $project, id: row.fileId})
       MERGE (run)-[link:${relationship}]->(file)
       SET link.role = row.role`,
      links,
    );
  }
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
