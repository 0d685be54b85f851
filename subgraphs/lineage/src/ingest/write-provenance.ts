import neo4j, { type ManagedTransaction } from 'neo4j-driver';

import type { ArgumentKind, FileRecord, LinkRecord, Provenance, RunRecord } from './provenance';

/** Runs a statement over rows in batches (`UNWIND $rows`) and returns every row it returned. */
export type BatchWriter = (cypher: string, rows: object[]) => Promise<Record<string, unknown>[]>;

/**
 * Prefix of every ingestion statement: a plan in the cache is kept however much the graph grew
 * since it was made. A bulk load grows the counts the planner looks at by more than its
 * threshold every few seconds, and planning the statements again took about 10 % of Neo4j's CPU
 * samples during one (3 % with this). Every statement finds its nodes by a unique key or by
 * node id, which is the best plan on any graph (`tests/lineage/ingest-plans.test.ts` checks
 * the plans made on an empty graph).
 */
export const planOnce = 'CYPHER replan=skip';

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
  const newRuns = new Set(
    mergeOnly ? [] : runs.map((run) => run.id).filter((id) => !runRefs.has(id)),
  );
  // A file version a new run generated is new as well (as a rule, a version has one maker), so
  // it is created without being looked up. Should the graph hold it all the same (an identical
  // output of a re-run, under a checksum id), the uniqueness constraint refuses the copy and
  // the retry merges everything.
  const inDocument = new Set(files.map((file) => file.id));
  const madeByNewRun = new Set(
    generations
      .filter((link) => newRuns.has(link.runId) && inDocument.has(link.fileId))
      .map((link) => link.fileId),
  );
  const known = await refsOf(
    tx,
    'MATCH (node:File {projectPath: $project, id: id})',
    [...files.map((file) => file.id), ...[...usages, ...generations].map((link) => link.fileId)],
    projectPath,
    (id) => !madeByNewRun.has(id),
  );
  const isNewFile = (id: string) => !mergeOnly && !known.has(id);

  // Files first: a new run is written with all its relationships, to files made before it.
  // The bulk statements take rows as lists rather than maps (`fileRow`, the new runs' rows):
  // the same values without a key string each to encode and decode. `isFolder` is stored only
  // where true (readers take it missing for false): a property less on most file versions.
  const fileRefs = new Map(known);
  const newFiles = new Set<string>();
  for (const [fresh, cypher] of [
    [
      true,
      `UNWIND $rows AS row
       CREATE (file:File {projectPath: $project, id: row[0], path: row[1], commit: row[2],
                          checksum: row[3], isFolder: row[4]})
       RETURN collect(elementId(file)) AS refs`,
    ],
    [
      false,
      `UNWIND $rows AS row
       MERGE (file:File {projectPath: $project, id: row[0]})
       SET file.path = row[1], file.commit = row[2], file.checksum = row[3], file.isFolder = row[4]
       RETURN collect(elementId(file)) AS refs`,
    ],
  ] as const) {
    const rows = files.filter((file) => isNewFile(file.id) === fresh);
    // One list of node ids per batch, in the order of its rows: no id string comes back.
    const written = await write(cypher, rows.map(fileRow));
    const refs = written.flatMap(({ refs }) => refs as string[]);
    if (refs.length !== rows.length)
      throw new Error(`${refs.length} files written of ${rows.length}`);
    rows.forEach((file, index) => {
      fileRefs.set(file.id, refs[index]);
      if (fresh) newFiles.add(refs[index]);
    });
  }

  const linksOf = (links: LinkRecord[]) => {
    const byRun = new Map<string, [file: string, role: string | null][]>();
    for (const { runId, fileId, role } of links) {
      const file = fileRefs.get(fileId);
      // A link to a file that is nowhere is left out, as a MATCH that finds nothing would.
      if (file === undefined) continue;
      const ends = byRun.get(runId) ?? [];
      ends.push([file, role]);
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

  // A new run as a row: [id, startedAt, endedAt, commit, commandLine, plan node id, person
  // node ids, used [file node id, role], generated [file node id, role]].
  await write(
    `UNWIND $rows AS row
     CREATE (run:Run {projectPath: $project, id: row[0], startedAt: row[1], endedAt: row[2],
                      commit: row[3], commandLine: row[4]})
     WITH run, row
     CALL (run, row) {
       MATCH (plan:Plan) WHERE elementId(plan) = row[5]
       CREATE (run)-[:FOLLOWED]->(plan)
     }
     CALL (run, row) {
       UNWIND row[6] AS ref
       MATCH (person:Person) WHERE elementId(person) = ref
       CREATE (run)-[:ASSOCIATED_WITH]->(person)
     }
     CALL (run, row) {
       UNWIND row[7] AS link
       MATCH (file:File) WHERE elementId(file) = link[0]
       CREATE (run)-[:USED {role: link[1]}]->(file)
     }
     CALL (run, row) {
       UNWIND row[8] AS link
       MATCH (file:File) WHERE elementId(file) = link[0]
       CREATE (run)-[:GENERATED {role: link[1]}]->(file)
     }`,
    runs
      .filter((run) => newRuns.has(run.id))
      .map((run): unknown[] => {
        const { id, startedAt, endedAt, commit, commandLine, plan, persons } = rowOf(run);
        const links = [used.get(run.id) ?? [], generated.get(run.id) ?? []];
        return [id, startedAt, endedAt, commit, commandLine, plan, persons, ...links];
      }),
  );

  const knownRuns = runs.filter((run) => !newRuns.has(run.id));
  const mergedRuns = await write(
    `UNWIND $rows AS row
     MERGE (run:Run {projectPath: $project, id: row.id})
     SET run.startedAt = row.startedAt, run.endedAt = row.endedAt, run.commit = row.commit,
         run.commandLine = row.commandLine
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
      return run === undefined ? [] : ends.map(([file, role]) => ({ run, file, role }));
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

/** The nodes a pattern (binding `node` for each `id`) finds, by identifier, of the ids asked. */
async function refsOf(
  tx: ManagedTransaction,
  pattern: string,
  ids: string[],
  projectPath: string,
  asked: (id: string) => boolean = () => true,
): Promise<Refs> {
  const wanted = [...new Set(ids)].filter(asked);
  if (wanted.length === 0) return new Map();
  const result = await tx.run(
    `${planOnce}
     UNWIND $ids AS id
     ${pattern}
     RETURN id, elementId(node) AS ref`,
    { project: projectPath, ids: wanted },
  );
  return new Map(result.records.map((record) => [record.get('id'), record.get('ref')]));
}

/** A file as the bulk statements take it: `[id, path, commit, checksum, isFolder or null]`. */
const fileRow = (file: FileRecord) => [
  file.id,
  file.path,
  file.commit,
  file.checksum,
  file.isFolder || null,
];

const linkKey = (link: LinkRecord) => `${link.runId}\n${link.fileId}`;

/** One record per key, the last one: what merging them one after the other leaves. */
function lastOf<T>(records: readonly T[], key: (record: T) => string): T[] {
  return [...new Map(records.map((record) => [key(record), record])).values()];
}
