import {
  asStream,
  buildCommandLine,
  commandLineFromLabel,
  type CommandArgument,
  type Stream,
} from './command-line';
import type { RenkuDocument } from './document';
import {
  hasType,
  integer,
  invalidDocument,
  isBlank,
  type JsonLdNode,
  literal,
  references,
  timestamp,
} from './nodes';
import { Property, Type } from './vocabulary';

export interface RunRecord {
  id: string;
  startedAt: string | null;
  endedAt: string | null;
  commit: string | null;
  commandLine: string;
  planId: string | null;
  personIds: string[];
  /** What this run gave the plan's arguments, where it gave anything. */
  values: ArgumentValue[];
}

export interface ArgumentValue {
  argumentId: string;
  kind: ArgumentKind;
  value: string;
}

export interface FileRecord {
  id: string;
  path: string;
  commit: string | null;
  checksum: string | null;
  isFolder: boolean;
}

export interface PlanRecord {
  id: string;
  name: string | null;
  command: string | null;
}

export type ArgumentKind = 'input' | 'output' | 'parameter';

export interface ArgumentRecord {
  id: string;
  planId: string;
  kind: ArgumentKind;
  name: string | null;
  position: number | null;
  prefix: string | null;
  defaultValue: string | null;
  mappedTo: Stream | null;
}

/** A run used (`USED`) or generated (`GENERATED`) a file in some role. */
export interface LinkRecord {
  runId: string;
  fileId: string;
  role: string | null;
}

export interface Provenance {
  runs: RunRecord[];
  files: FileRecord[];
  plans: PlanRecord[];
  arguments: ArgumentRecord[];
  usages: LinkRecord[];
  generations: LinkRecord[];
  /** Earliest and latest activity time, for the project's dates. */
  firstActivityAt: string | null;
  lastActivityAt: string | null;
}

/** 0.x identifiers start with the commit: `/<sha>#` for runs, `/<sha>/<path>` for files. */
const commitPattern = /^\/([0-9a-f]{40})(?=[#/]|$)/;

/** Maps the runs, plans and files of a renku export onto the graph model. */
export function readProvenance(document: RenkuDocument): Provenance {
  const plans = new PlanReader(document);
  const planNodes = document.ofType(Type.plan);
  const planIds = new Set(planNodes.map((plan) => plan['@id']));

  const runs: RunRecord[] = [];
  const usages: LinkRecord[] = [];
  for (const activity of document.ofType(Type.activity)) {
    const run = readRun(document, plans, activity);
    if (!run) continue;
    runs.push(run);
    for (const usage of document.follow(activity, Property.qualifiedUsage, isUsage)) {
      for (const entity of document.follow(usage, Property.entity, isEntity)) {
        usages.push({
          runId: run.id,
          fileId: entity['@id'],
          role: literal(usage, Property.hadRole),
        });
      }
    }
  }
  // Plans no run followed still belong to the project's workflows.
  planNodes.forEach((plan) => plans.read(plan));

  // Plans (0.x), datasets and dataset files (2.x) are typed prov:Entity as well, but they
  // are no file versions: the files are the entities they point at.
  const entities = document
    .ofType(Type.entity)
    .filter(
      (node) => !planIds.has(node['@id']) && !hasType(node, [Type.dataset, Type.datasetFile]),
    );
  const runIds = new Set(runs.map((run) => run.id));
  const generations: LinkRecord[] = [];
  const files = entities.map((entity): FileRecord => {
    document.requireId(entity, 'an entity');
    for (const generation of document.follow(entity, Property.qualifiedGeneration, isGeneration)) {
      for (const activity of document.follow(generation, Property.activity, isActivity)) {
        // Commits that are not runs generate files too; they carry no lineage.
        if (!runIds.has(activity['@id'])) continue;
        generations.push({
          runId: activity['@id'],
          fileId: entity['@id'],
          role: literal(generation, Property.hadRole),
        });
      }
    }
    return {
      id: entity['@id'],
      path: pathOf(entity),
      commit: commitPattern.exec(entity['@id'])?.[1] ?? null,
      checksum: literal(entity, Property.checksum),
      isFolder: hasType(entity, Type.collection),
    };
  });

  // 0.x exports do not type folders: a path is a folder when others lie below it.
  const paths = files.map((file) => file.path);
  for (const file of files) {
    file.isFolder ||= paths.some((other) => other.startsWith(`${file.path}/`));
  }

  const times = runs
    .flatMap((run) => [run.startedAt, run.endedAt])
    .filter((time): time is string => time !== null)
    .sort();
  return {
    runs,
    files,
    plans: [...plans.plans.values()],
    arguments: [...plans.arguments.values()],
    usages,
    generations,
    firstActivityAt: times[0] ?? null,
    lastActivityAt: times.at(-1) ?? null,
  };
}

const isUsage = (node: JsonLdNode) => hasType(node, Type.usage);
const isEntity = (node: JsonLdNode) => hasType(node, Type.entity);
const isGeneration = (node: JsonLdNode) => hasType(node, Type.generation);
const isActivity = (node: JsonLdNode) => hasType(node, Type.activity);
const isAssociation = (node: JsonLdNode) => hasType(node, Type.association);
const isPlan = (node: JsonLdNode) => hasType(node, Type.plan);

/**
 * A run is an activity that followed a plan. Other activities are commits
 * (`renku dataset add`, plain edits) and have no lineage: null.
 */
function readRun(document: RenkuDocument, plans: PlanReader, activity: JsonLdNode) {
  const associations = document.follow(activity, Property.qualifiedAssociation, isAssociation);
  const plan = associations
    .flatMap((association) => document.follow(association, Property.hadPlan, isPlan))
    .map((node) => plans.read(node))[0];
  if (!plan && !hasType(activity, Type.processRun)) return null;
  document.requireId(activity, 'an activity');

  // 0.x names the person as the association's agent; 2.x names renku there and the person beside.
  const people = [
    ...associations.flatMap((association) => document.people(association, Property.agent)),
    ...document.people(activity, Property.wasAssociatedWith),
  ];

  const given = new Map<string, string>();
  for (const value of document.follow(activity, Property.parameter)) {
    const argument = document.follow(value, Property.valueReference)[0];
    const text = literal(value, Property.value);
    if (argument && text !== null) given.set(argument['@id'], text);
  }
  const args = plan ? plans.argumentsOf(plan.id, given) : [];
  const label = literal(activity, Property.label);
  const commandLine = plan?.command
    ? buildCommandLine(plan.command, args)
    : label
      ? commandLineFromLabel(label)
      : activity['@id'];

  const id = activity['@id'];
  return {
    id,
    startedAt: timestamp(activity, Property.startedAtTime),
    endedAt: timestamp(activity, Property.endedAtTime),
    commit: commitPattern.exec(id)?.[1] ?? null,
    commandLine,
    planId: plan?.id ?? null,
    personIds: [...new Set(people.map((person) => person.id))],
    values: [...given].flatMap(([nodeId, value]) => {
      const argument = plans.arguments.get(nodeId);
      return argument ? [{ argumentId: argument.id, kind: argument.kind, value }] : [];
    }),
  };
}

/** Plans and their inputs, outputs and parameters, each read once. */
class PlanReader {
  readonly plans = new Map<string, PlanRecord>();
  /** Keyed by the argument's node id, which a run's parameter values refer to. */
  readonly arguments = new Map<string, ArgumentRecord>();

  constructor(private readonly document: RenkuDocument) {}

  read(node: JsonLdNode): PlanRecord {
    const known = this.plans.get(node['@id']);
    if (known) return known;
    this.document.requireId(node, 'a plan');
    const plan = {
      id: node['@id'],
      name: literal(node, Property.name) ?? literal(node, Property.label),
      command: literal(node, Property.command),
    };
    this.plans.set(plan.id, plan);

    const kinds: [string, ArgumentKind][] = [
      [Property.hasInputs, 'input'],
      [Property.hasOutputs, 'output'],
      [Property.hasArguments, 'parameter'],
    ];
    for (const [property, kind] of kinds) {
      this.document
        .follow(node, property)
        .forEach((argument, index) => this.readArgument(plan.id, argument, kind, index));
    }
    return plan;
  }

  argumentsOf(planId: string, given: Map<string, string>): CommandArgument[] {
    return [...this.arguments.entries()]
      .filter(([, argument]) => argument.planId === planId)
      .map(([nodeId, argument]) => ({
        position: argument.position,
        prefix: argument.prefix,
        value: given.get(nodeId) ?? argument.defaultValue,
        mappedTo: argument.mappedTo,
      }));
  }

  private readArgument(planId: string, node: JsonLdNode, kind: ArgumentKind, index: number) {
    const position = integer(node, Property.position);
    // A blank argument is named after its plan and place, so that a second ingestion merges it.
    const id = isBlank(node['@id']) ? `${planId}#${kind}-${position ?? `i${index}`}` : node['@id'];
    // The stream is a node (`renku:IOStream`) or, where it is left out, named by its id.
    const streamId = references(node, Property.mappedTo)[0];
    const stream = streamId === undefined ? undefined : this.document.get(streamId);
    this.arguments.set(node['@id'], {
      id,
      planId,
      kind,
      name: literal(node, Property.name),
      position,
      prefix: literal(node, Property.prefix),
      defaultValue: literal(node, Property.defaultValue),
      mappedTo: asStream((stream && literal(stream, Property.streamType)) ?? streamId ?? null),
    });
  }
}

/**
 * The entity's path in the repository: renku 2.x writes it as `prov:atLocation`;
 * 0.x labels entities `<path>@<commit>` and names them `/<commit>/<path>`.
 */
function pathOf(entity: JsonLdNode): string {
  const location = literal(entity, Property.atLocation);
  if (location) return location.replace(/^\/+/, '');
  const label = literal(entity, Property.label);
  const labelled = label && /^(.+)@[0-9a-f]{40}$/.exec(label)?.[1];
  if (labelled) return labelled;
  const named = /^\/[0-9a-f]{40}\/(.+)$/.exec(entity['@id'])?.[1];
  if (named) return named;
  throw invalidDocument(
    entity['@id'],
    Property.atLocation,
    'the entity has no path in the repository',
  );
}
