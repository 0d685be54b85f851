import crypto from 'node:crypto';

import type { PersonRecord } from './document';
import type { FileRecord, LinkRecord, PlanRecord, RunRecord } from './provenance';
import type { RenkuExport } from './read';

/**
 * A generated provenance graph for the scale benchmark (`bench/lineage/`), in the records the
 * ingestion writes, so that it goes through the same Cypher as a real export. Never used by
 * the service itself.
 */
export interface SyntheticOptions {
  /** File versions in all; runs are `runsPerEntity` times as many. */
  entities: number;
  /** Projects the graph is spread over. Default 20. */
  projects?: number;
  /** Default 0.3: 300,000 runs for a million file versions. */
  runsPerEntity?: number;
  /** File versions per segment (one ingestion each). Default 5000. */
  segmentEntities?: number;
  /** Seed of the pseudo-random choices: the same seed gives the same graph. Default 1. */
  seed?: number;
}

/** One ingestion: a part of one project, written after the parts before it. */
export interface SyntheticSegment {
  projectPath: string;
  export: RenkuExport;
  /** Motifs generated in this segment, by kind. */
  motifs: Record<MotifKind, number>;
}

export type MotifKind = 'chain' | 'fanIn' | 'fanOut' | 'diamond' | 'regenerated';

const motifKinds: MotifKind[] = ['chain', 'fanIn', 'fanOut', 'diamond', 'regenerated'];

/** A small, fast generator (mulberry32): good enough to vary shapes, and repeatable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sha(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex');
}

/**
 * Projects are made of pipelines as renku users write them: a few raw files, then runs of a
 * handful of scripts in chains, fan-ins (several inputs), fan-outs (a run writing many files),
 * diamonds (two runs over one file joined by a third) and re-runs that write a path again. A
 * pipeline starts from the last outputs of the one before, so lineage runs deeper than one
 * pipeline. Runs also write side files (metrics, plots), as scripts do, which brings the
 * graph to the wanted runs-to-files ratio.
 */
export function* generateProvenance(options: SyntheticOptions): Generator<SyntheticSegment> {
  const projectCount = options.projects ?? 20;
  const runsPerEntity = options.runsPerEntity ?? 0.3;
  const segmentEntities = options.segmentEntities ?? 5000;
  // Every project draws from the same seed: the same shapes under other names, so that the
  // projects are alike in size and depth and a query's cost does not depend on which it asks.
  const projects = Array.from(
    { length: projectCount },
    (_, index) => new ProjectBuilder(`bench/project-${index + 1}`, random(options.seed ?? 1)),
  );

  // Projects take turns, one segment each, so that any prefix of the stream covers them all.
  let written = 0;
  let runs = 0;
  for (let turn = 0; written < options.entities; turn++) {
    const builder = projects[turn % projectCount];
    const budget = Math.min(segmentEntities, options.entities - written);
    const runBudget = Math.round((written + budget) * runsPerEntity) - runs;
    const segment = builder.segment(budget, runBudget);
    written += segment.export.provenance.files.length;
    runs += segment.export.provenance.runs.length;
    yield segment;
  }
}

class ProjectBuilder {
  private pipeline = 0;
  private runCount = 0;
  /** The last outputs of the previous pipeline: where the next one starts. */
  private carried: FileRecord[] = [];
  private readonly persons: PersonRecord[];
  private readonly plans: PlanRecord[];

  constructor(
    private readonly projectPath: string,
    private readonly next: () => number,
  ) {
    this.persons = Array.from({ length: 4 }, (_, index) => ({
      id: `mailto:person-${index + 1}@${projectPath.replace('/', '.')}.example.org`,
      name: `Person ${index + 1}`,
      email: `person-${index + 1}@example.org`,
    }));
    this.plans = ['clean', 'merge', 'split', 'train', 'evaluate', 'plot', 'report'].map((name) => ({
      id: `/plans/${sha(`${projectPath}:${name}`)}`,
      name,
      command: 'python',
    }));
  }

  segment(entityBudget: number, runBudget: number): SyntheticSegment {
    const files: FileRecord[] = [];
    const runs: RunRecord[] = [];
    const usages: LinkRecord[] = [];
    const generations: LinkRecord[] = [];
    const motifs = Object.fromEntries(motifKinds.map((kind) => [kind, 0])) as Record<
      MotifKind,
      number
    >;
    const pick = <T>(items: T[]): T => items[Math.floor(this.next() * items.length)];

    // Re-runs write a path of their own pipeline again, as a user re-running a step does.
    let pipelineOutputs: string[] = [];

    const newFile = (path: string, commit: string): FileRecord => {
      const file = {
        id: `/${commit}/${path}`,
        path,
        commit,
        checksum: sha(`${commit}/${path}`),
        isFolder: false,
      };
      files.push(file);
      return file;
    };

    const run = (inputs: FileRecord[], outputPaths: string[], plan: PlanRecord): FileRecord[] => {
      this.runCount += 1;
      const commit = sha(`${this.projectPath}#${this.runCount}`);
      const startedAt = new Date(Date.UTC(2026, 0, 1) + this.runCount * 60_000);
      const record: RunRecord = {
        id: `/${commit}#`,
        startedAt: startedAt.toISOString(),
        endedAt: new Date(startedAt.getTime() + 30_000).toISOString(),
        commit,
        commandLine: '',
        planId: plan.id,
        personIds: [pick(this.persons).id],
        values: [],
      };
      const outputs = outputPaths.map((path) => newFile(path, commit));
      // Side files keep the ratio of files to runs, like a script's metrics and plots.
      const wanted = (entityBudget - files.length) / Math.max(1, runBudget - runs.length - 1);
      const sides = Math.max(0, Math.round(wanted - outputs.length + (this.next() - 0.5)));
      for (let side = 0; side < Math.min(sides, 6); side++) {
        outputs.push(newFile(`${outputs[0].path}.d/metric-${side}.json`, commit));
      }
      record.commandLine = [
        'python',
        `src/${plan.name}.py`,
        ...inputs.map((input) => input.path),
        ...outputs.map((output) => output.path),
      ].join(' ');
      runs.push(record);
      inputs.forEach((input) => usages.push({ runId: record.id, fileId: input.id, role: null }));
      outputs.forEach((output) => {
        generations.push({ runId: record.id, fileId: output.id, role: null });
        if (!output.path.includes('.d/')) pipelineOutputs.push(output.path);
      });
      return outputs;
    };

    while (files.length < entityBudget && runs.length < runBudget) {
      this.pipeline += 1;
      const base = `pipeline-${this.pipeline}`;
      const commit = sha(`${this.projectPath}@${this.pipeline}`);
      const raw = Array.from({ length: 2 }, (_, index) =>
        newFile(`${base}/raw-${index}.csv`, commit),
      );
      let frontier = [...this.carried.slice(0, 2), ...raw];
      pipelineOutputs = [];
      let step = 0;
      const out = (name: string) => `${base}/step-${step}/${name}.csv`;

      // About 14 runs a pipeline: deep enough that depth 10 is a real bound.
      for (let motif = 0; motif < 6 && runs.length < runBudget; motif++) {
        step += 1;
        const kind = motifKinds[Math.floor(this.next() * motifKinds.length)];
        motifs[kind] += 1;
        if (kind === 'chain') {
          const a = run([pick(frontier)], [out('a')], this.plans[0]);
          step += 1;
          frontier = run(a.slice(0, 1), [out('b')], this.plans[1]);
        } else if (kind === 'fanIn') {
          const inputs = [...new Set(Array.from({ length: 3 }, () => pick(frontier)))];
          frontier = run(inputs, [out('joined')], this.plans[1]);
        } else if (kind === 'fanOut') {
          const parts = run(
            [pick(frontier)],
            [0, 1, 2, 3].map((i) => out(`part-${i}`)),
            this.plans[2],
          );
          frontier = parts.slice(0, 4);
        } else if (kind === 'diamond') {
          const source = pick(frontier);
          const left = run([source], [out('left')], this.plans[3]);
          const right = run([source], [out('right')], this.plans[4]);
          step += 1;
          frontier = run([left[0], right[0]], [out('both')], this.plans[5]);
        } else {
          // A later run writes an earlier output again: only the latest producer counts.
          const again = pipelineOutputs.length > 0 ? pick(pipelineOutputs) : out('first');
          frontier = [...frontier.slice(0, 2), ...run([pick(frontier)], [again], this.plans[6])];
        }
      }
      this.carried = frontier;
    }

    return {
      projectPath: this.projectPath,
      motifs,
      export: {
        provenance: {
          runs,
          files,
          plans: this.plans,
          arguments: [],
          usages,
          generations,
          firstActivityAt: runs[0]?.startedAt ?? null,
          lastActivityAt: runs.at(-1)?.endedAt ?? null,
        },
        project: null,
        datasets: [],
        persons: this.persons,
      },
    };
  }
}
