import type { FileRecord, LinkRecord, RunRecord } from './provenance';
import { generateProvenance } from './synthetic';

function collect(entities: number) {
  const files: FileRecord[] = [];
  const runs: RunRecord[] = [];
  const usages: LinkRecord[] = [];
  const generations: LinkRecord[] = [];
  const projects = new Set<string>();
  for (const segment of generateProvenance({ entities, projects: 3, segmentEntities: 2000 })) {
    const { provenance } = segment.export;
    projects.add(segment.projectPath);
    files.push(...provenance.files);
    runs.push(...provenance.runs);
    usages.push(...provenance.usages);
    generations.push(...provenance.generations);
  }
  return { files, runs, usages, generations, projects };
}

describe('generateProvenance', () => {
  const graph = collect(20_000);

  it('makes the asked number of file versions and 0.3 runs for each', () => {
    expect(Math.abs(graph.files.length - 20_000)).toBeLessThan(200);
    expect(Math.abs(graph.runs.length - 6_000)).toBeLessThan(60);
    expect(graph.projects.size).toBe(3);
  });

  it('links only runs and files it made, each file made once', () => {
    const fileIds = new Set(graph.files.map((file) => file.id));
    const runIds = new Set(graph.runs.map((run) => run.id));
    expect(fileIds.size).toBe(graph.files.length);
    const dangling = [...graph.usages, ...graph.generations].filter(
      (link) => !runIds.has(link.runId) || !fileIds.has(link.fileId),
    );
    expect(dangling).toEqual([]);
    const generated = graph.generations.map((link) => link.fileId);
    expect(new Set(generated).size).toBe(generated.length);
  });

  it('makes chains, fan-ins, fan-outs, diamonds and paths written again', () => {
    const inputsOf = filesByRun(graph.usages);
    const outputsOf = filesByRun(graph.generations);
    const producerOf = new Map(graph.generations.map((link) => [link.fileId, link.runId]));
    const pathOf = new Map(graph.files.map((file) => [file.id, file.path]));

    const fanIns = [...inputsOf.values()].filter((inputs) => inputs.length >= 3);
    const fanOuts = [...outputsOf.values()].filter(
      (outputs) => outputs.filter((id) => !pathOf.get(id)?.includes('.d/')).length >= 4,
    );
    // A diamond: a run joins two files whose producers both used one same file.
    const diamonds = [...inputsOf.values()].filter((inputs) => {
      const producers = inputs.map((id) => producerOf.get(id)).filter((id) => id !== undefined);
      const sources = producers.map((run) => new Set(inputsOf.get(run) ?? []));
      return sources.some((a, i) => sources.some((b, j) => i < j && [...a].some((f) => b.has(f))));
    });
    const generatedPaths = graph.generations.map((link) => pathOf.get(link.fileId));
    const rewritten = generatedPaths.length - new Set(generatedPaths).size;
    // A chain: a run that used what a run made from what a third run made.
    const chains = [...inputsOf.entries()].filter(([, inputs]) =>
      inputs.some((input) => {
        const producer = producerOf.get(input);
        return producer && (inputsOf.get(producer) ?? []).some((id) => producerOf.has(id));
      }),
    );

    expect(fanIns.length).toBeGreaterThan(100);
    expect(fanOuts.length).toBeGreaterThan(100);
    expect(diamonds.length).toBeGreaterThan(100);
    expect(rewritten).toBeGreaterThan(100);
    expect(chains.length).toBeGreaterThan(1000);
  });

  it('makes the same graph from the same seed', () => {
    const first = () => generateProvenance({ entities: 1000, seed: 3 }).next().value;
    expect(first()).toEqual(first());
  });
});

function filesByRun(links: LinkRecord[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const link of links)
    groups.set(link.runId, [...(groups.get(link.runId) ?? []), link.fileId]);
  return groups;
}
