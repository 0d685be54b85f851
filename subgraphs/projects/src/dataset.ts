import type { Logger } from '@renku-supergraph/kit';

import { toDate } from './project';

/** Someone renku metadata names: a creator of a project, dataset or workflow. */
export interface Person {
  name: string;
  email: string | null;
  affiliation: string | null;
}

export interface DatasetTag {
  name: string;
  date: Date | null;
  description: string | null;
}

/** A dataset as resolvers see it; `key` is what its files and users are loaded by. */
export interface Dataset {
  key: DatasetKey;
  projectPath: string;
  identifier: string;
  name: string;
  slug: string | null;
  description: string | null;
  creators: Person[];
  keywords: string[];
  license: string | null;
  sameAs: string | null;
  derivedFrom: string | null;
  initialVersion: string;
  version: string | null;
  created: Date | null;
  published: Date | null;
  modified: Date | null;
  tags: DatasetTag[];
  /** Where `usedIn` looks for copies: the import source, else the first version. */
  origin: string;
}

/** A dataset node's key in the graph model: `(projectPath, id)`. */
export interface DatasetKey {
  projectPath: string;
  id: string;
}

export interface DatasetFile {
  location: string;
  added: Date | null;
  source: string | null;
}

export const datasetFields = `d {
  .projectPath, .id, .identifier, .name, .slug, .description, .keywords, .license, .sameAs,
  .derivedFrom, .initialVersion, .version, .createdAt, .publishedAt, .modifiedAt,
  creators: [(d)-[:CREATED_BY]->(c:Person) | c {.name, .email, .affiliation}],
  tags: [(d)-[:HAS_TAG]->(t:DatasetTag) | t {.name, .date, .description}]
}`;

type Row = Record<string, unknown>;

/** Like `toProject`: ingestion is not ours, so a damaged value degrades instead of failing. */
export function toDataset(row: Row, log: Logger): Dataset {
  const projectPath = String(row.projectPath);
  const id = String(row.id);
  const identifier = text(row.identifier) ?? id;
  const where = `${projectPath} ${identifier}`;
  const sameAs = text(row.sameAs);
  const initialVersion = text(row.initialVersion) ?? identifier;

  return {
    key: { projectPath, id },
    projectPath,
    identifier,
    name: text(row.name) ?? text(row.slug) ?? identifier,
    slug: text(row.slug),
    description: text(row.description),
    creators: list(row.creators)
      .map(toPerson)
      .filter((p): p is Person => p !== null),
    keywords: list(row.keywords).filter((k): k is string => typeof k === 'string'),
    license: text(row.license),
    sameAs,
    derivedFrom: text(row.derivedFrom),
    initialVersion,
    version: text(row.version),
    created: toDate(row.createdAt, where, 'createdAt', log),
    published: toDate(row.publishedAt, where, 'publishedAt', log),
    modified: toDate(row.modifiedAt, where, 'modifiedAt', log),
    tags: list(row.tags)
      .filter((tag): tag is Row => tag !== null && typeof tag === 'object')
      .filter((tag) => text(tag.name) !== null)
      .map((tag) => ({
        name: String(tag.name),
        date: toDate(tag.date, where, 'tag date', log),
        description: text(tag.description),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    origin: sameAs ?? initialVersion,
  };
}

export function toPerson(value: unknown): Person | null {
  if (value === null || typeof value !== 'object') return null;
  const row = value as Row;
  const name = text(row.name) ?? text(row.email);
  if (name === null) return null;
  return { name, email: text(row.email), affiliation: text(row.affiliation) };
}

export function toDatasetFile(row: Row, log: Logger): DatasetFile {
  const location = String(row.location);
  return {
    location,
    added: toDate(row.addedAt, location, 'addedAt', log),
    source: text(row.source),
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
