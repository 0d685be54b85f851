import neo4j, { type ManagedTransaction } from 'neo4j-driver';

import type { ArgumentKind, LinkRecord, Provenance, RunRecord } from './provenance';

/** Runs a statement over rows in batches (`UNWIND $rows`) and returns every row it returned. */
export type BatchWriter = (cypher: string, rows: object[]) => Promise<Record<string, unknown>[]>;

/** Node ids of a document's identifiers: `elementId()` by `id`, valid in this transaction. */
type Refs = Map<string, string>;

const argumentLabels: Record<ArgumentKind, { label: string; relationship: string }> = {
  input: { label: 'Input', relationship: 'HAS_INPUT' },
  output: { label: 'Output', relationship: 'HAS_OUTPUT' },
  parameter: { label: 'Parameter', relationship: 'HAS_PARAMETER' },
};

/**
 * Writes runs, plans, files and their links. A run or file the graph does not hold yet is
 * created, with its relationships, without merging: a node new to this transaction has no
 * relationships to duplicate. The rest is merged, so that a document written again changes
 * nothing. Relationships are made between nodes found by their `elementId()`, known from the
 * statements that wrote or looked them up, instead of a second look-up of each end by key.
 *
 * `mergeOnly` merges everything: the retry after a concurrent writer created a node this
 * transaction took for new (the uniqueness constraints refuse the second copy).
 */
export async function writeProvenance(
  tx: ManagedTransaction,
  write: BatchWriter,
  projectPath: string,
  provenance: Provenance,
  mergeOnly: boolean,
): Promise<void> {
  const runs = lastOf(provenance.runs, (run) => run.id);
  const files = lastOf(provenance.files, (file) => file.id);
  const usages = lastOf(provenance.usages, linkKey);
  const generations = lastOf(provenance.generations, linkKey);

  const planRefs = await writePlans(write, provenance);
  const personRefs = await refsOf(
    tx,
    'MATCH (node:Person {id: id})',
    runs.flatMap((run) => run.personIds),
    projectPath,
  );
  const runRefs = await refsOf(
    tx,
    'MATCH (node:Run {projectPath: $project, id: id})',
    [...runs.map((run) => run.id), ...[...usages, ...generations].map((link) => link.runId)],
    projectPath,
  );
  const known = await refsOf(
    tx,
    'MATCH (node:File {projectPath: $project, id: id})',
    [...files.map((file) => file.id), ...[...usages, ...generations].map((link) => link.fileId)],
    projectPath,
  );
  const newRuns = new Set(
    mergeOnly ? [] : runs.map((run) => run.id).filter((id) => !runRefs.has(id)),
  );
  const isNewFile = (id: string) => !mergeOnly && !known.has(id);

  // Files first: a new run is written with all its relationships, to files made before it.
  const fileRefs = new Map(known);
  const created = await write(
    `UNWIND $rows AS row
     CREATE (file:File {projectPath: $project, id: row.id, path: row.path, commit: row.commit,
                        checksum: row.checksum, isFolder: row.isFolder})
     RETURN row.id AS id, elementId(file) AS ref`,
    files.filter((file) => isNewFile(file.id)),
  );
  const merged = await write(
    `UNWIND $rows AS row
     MERGE (file:File {projectPath: $project, id: row.id})
     SET file.path = row.path, file.commit = row.commit, file.checksum = row.checksum,
         file.isFolder = row.isFolder
     RETURN row.id AS id, elementId(file) AS ref`,
    files.filter((file) => !isNewFile(file.id)),
  );
  for (const { id, ref } of [...created, ...merged]) fileRefs.set(id as string, ref as string);
  const newFiles = new Set(created.map(({ ref }) => ref as string));

  const linksOf = (links: LinkRecord[]) => {
    const byRun = new Map<string, { file: string; role: string | null }[]>();
    for (const { runId, fileId, role } of links) {
      const file = fileRefs.get(fileId);
      // A link to a file that is nowhere is left out, as a MATCH that finds nothing would.
      if (file === undefined) continue;
      const ends = byRun.get(runId) ?? [];
      ends.push({ file, role });
      byRun.set(runId, ends);
    }
    return byRun;
  };
  const used = linksOf(usages);
  const generated = linksOf(generations);
  const rowOf = ({ values, personIds, planId, ...run }: RunRecord) => ({
    ...run,
    plan: planId === null ? null : (planRefs.get(planId) ?? null),
    persons: [...new Set(personIds)].flatMap((id) => personRefs.get(id) ?? []),
  });

  await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     CREATE (run:Run {projectPath: $project, id: row.id, startedAt: row.startedAt,
                      endedAt: row.endedAt, commit: row.commit, commandLine: row.commandLine})
     CREATE (run)-[:IN_PROJECT]->(project)
     WITH run, row
     CALL (run, row) {
       MATCH (plan:Plan) WHERE elementId(plan) = row.plan
       CREATE (run)-[:FOLLOWED]->(plan)
     }
     CALL (run, row) {
       UNWIND row.persons AS ref
       MATCH (person:Person) WHERE elementId(person) = ref
       CREATE (run)-[:ASSOCIATED_WITH]->(person)
     }
     CALL (run, row) {
       UNWIND row.used AS link
       MATCH (file:File) WHERE elementId(file) = link.file
       CREATE (run)-[:USED {role: link.role}]->(file)
     }
     CALL (run, row) {
       UNWIND row.generated AS link
       MATCH (file:File) WHERE elementId(file) = link.file
       CREATE (run)-[:GENERATED {role: link.role}]->(file)
     }`,
    runs
      .filter((run) => newRuns.has(run.id))
      .map((run) => ({
        ...rowOf(run),
        used: used.get(run.id) ?? [],
        generated: generated.get(run.id) ?? [],
      })),
  );

  const knownRuns = runs.filter((run) => !newRuns.has(run.id));
  const mergedRuns = await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     MERGE (run:Run {projectPath: $project, id: row.id})
     SET run.startedAt = row.startedAt, run.endedAt = row.endedAt, run.commit = row.commit,
         run.commandLine = row.commandLine
     MERGE (run)-[:IN_PROJECT]->(project)
     WITH run, row
     CALL (run, row) {
       MATCH (plan:Plan) WHERE elementId(plan) = row.plan
       MERGE (run)-[:FOLLOWED]->(plan)
     }
     CALL (run, row) {
       UNWIND row.persons AS ref
       MATCH (person:Person) WHERE elementId(person) = ref
       MERGE (run)-[:ASSOCIATED_WITH]->(person)
     }
     RETURN row.id AS id, elementId(run) AS ref`,
    knownRuns.map(rowOf),
  );
  for (const { id, ref } of mergedRuns) runRefs.set(id as string, ref as string);
  // Links of runs written before: created to a new file, else merged.
  for (const [links, relationship] of [
    [used, 'USED'],
    [generated, 'GENERATED'],
  ] as const) {
    const rows = [...links].flatMap(([runId, ends]) => {
      const run = newRuns.has(runId) ? undefined : runRefs.get(runId);
      return run === undefined ? [] : ends.map((end) => ({ ...end, run }));
    });
    await write(
      `UNWIND $rows AS row
       MATCH (run:Run) WHERE elementId(run) = row.run
       MATCH (file:File) WHERE elementId(file) = row.file
       CREATE (run)-[:${relationship} {role: row.role}]->(file)`,
      rows.filter((row) => newFiles.has(row.file)),
    );
    await write(
      `UNWIND $rows AS row
       MATCH (run:Run) WHERE elementId(run) = row.run
       MATCH (file:File) WHERE elementId(file) = row.file
       MERGE (run)-[link:${relationship}]->(file)
       SET link.role = row.role`,
      rows.filter((row) => !newFiles.has(row.file)),
    );
  }

  for (const [kind, { label }] of Object.entries(argumentLabels)) {
    await write(
      `UNWIND $rows AS row
       MATCH (run:Run {projectPath: $project, id: row.runId})
       MATCH (arg:${label} {projectPath: $project, id: row.argumentId})
       MERGE (run)-[given:GAVE]->(arg)
       SET given.value = row.value`,
      runs.flatMap((run) =>
        run.values
          .filter((value) => value.kind === kind)
          .map((value) => ({ runId: run.id, argumentId: value.argumentId, value: value.value })),
      ),
    );
  }
}

async function writePlans(write: BatchWriter, p: Provenance): Promise<Refs> {
  const plans = await write(
    `MATCH (project:Project {path: $project})
     UNWIND $rows AS row
     MERGE (plan:Plan {projectPath: $project, id: row.id})
     SET plan.name = row.name, plan.command = row.command
     MERGE (plan)-[:IN_PROJECT]->(project)
     RETURN row.id AS id, elementId(plan) AS ref`,
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
  return new Map(plans.map(({ id, ref }) => [id as string, ref as string]));
}

/** The nodes a pattern (binding `node` for each `id`) finds, by identifier. */
async function refsOf(
  tx: ManagedTransaction,
  pattern: string,
  ids: string[],
  projectPath: string,
): Promise<Refs> {
  const result = await tx.run(
    `UNWIND $ids AS id
     ${pattern}
     RETURN id, elementId(node) AS ref`,
    { project: projectPath, ids: [...new Set(ids)] },
  );
  return new Map(result.records.map((record) => [record.get('id'), record.get('ref')]));
}

const linkKey = (link: LinkRecord) => `${link.runId}\n${link.fileId}`;

/** One record per key, the last one: what merging them one after the other leaves. */
function lastOf<T>(records: readonly T[], key: (record: T) => string): T[] {
  return [...new Map(records.map((record) => [key(record), record])).values()];
}
