import type { Logger } from '@renku-supergraph/kit';
import { isDateTime } from 'neo4j-driver';

export type Visibility = 'public' | 'internal' | 'private';

/** A catalogue entry as resolvers see it. */
export interface Project {
  path: string;
  name: string;
  slug: string;
  namespace: string;
  description: string | null;
  visibility: Visibility;
  keywords: string[];
  created: Date | null;
  modified: Date | null;
}

/** The properties of a `:Project` node, as the catalogue's Cypher returns them. */
export type ProjectRow = Record<string, unknown>;

const visibilities: readonly string[] = ['public', 'internal', 'private'];

/** Splits `group/sub/project` into namespace `group/sub` and slug `project`. */
export function splitPath(path: string): { namespace: string; slug: string } {
  const last = path.lastIndexOf('/');
  return { namespace: path.slice(0, last), slug: path.slice(last + 1) };
}

/** True for `namespace/slug` with one or more namespace segments and no empty segment. */
export function isProjectPath(path: string): boolean {
  const segments = path.split('/');
  return segments.length >= 2 && segments.every((segment) => segment.trim() !== '');
}

/**
 * Turns a node's properties into a Project. Ingestion is not ours, so every property is
 * checked: a damaged value is logged and degrades to its safest reading instead of failing
 * the whole answer.
 */
export function toProject(row: ProjectRow, log: Logger): Project {
  const path = String(row.path);
  const { namespace, slug } = splitPath(path);
  const name = typeof row.name === 'string' && row.name !== '' ? row.name : slug;

  return {
    path,
    name,
    slug,
    namespace,
    description: typeof row.description === 'string' ? row.description : null,
    visibility: toVisibility(row.visibility, path, log),
    keywords: Array.isArray(row.keywords)
      ? row.keywords.filter((k): k is string => typeof k === 'string')
      : [],
    created: toDate(row.createdAt, path, 'createdAt', log),
    modified: toDate(row.modifiedAt, path, 'modifiedAt', log),
  };
}

function toVisibility(value: unknown, path: string, log: Logger): Visibility {
  if (typeof value === 'string' && visibilities.includes(value)) return value as Visibility;

  // An unknown value must never widen access.
  log.warn({ path, visibility: value }, 'project has no valid visibility; treating it as private');
  return 'private';
}

/** Neo4j DateTime or ISO 8601 string; a string without a zone is read as UTC. */
export function toDate(value: unknown, path: string, property: string, log: Logger): Date | null {
  if (value === null || value === undefined) return null;

  let date: Date | undefined;
  if (isDateTime(value)) {
    try {
      date = value.toStandardDate();
    } catch {
      date = undefined;
    }
  } else if (typeof value === 'string' && isoDateTime.test(value)) {
    date = new Date(hasZone.test(value) ? value : `${value}Z`);
  }

  if (date === undefined || Number.isNaN(date.getTime())) {
    log.warn({ path, property, value: String(value) }, 'project has an unreadable date');
    return null;
  }
  return date;
}

const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
const hasZone = /(Z|[+-]\d{2}:\d{2})$/;
