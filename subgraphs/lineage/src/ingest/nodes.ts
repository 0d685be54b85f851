import { apiError, ErrorCode } from '@renku-supergraph/kit';

import { shortName } from './vocabulary';

/** A node object of a flattened, expanded JSON-LD document. */
export type JsonLdNode = Record<string, unknown> & { '@id': string };

type JsonLdValue = { '@id'?: string; '@value'?: unknown; '@list'?: JsonLdValue[] };

/**
 * The document cannot be ingested. Names the node and the property at fault so
 * that whoever produced the metadata can find it.
 */
export function invalidDocument(nodeId: string, property: string, problem: string) {
  const name = property.startsWith('@') ? property : shortName(property);
  return apiError(
    ErrorCode.BadUserInput,
    `invalid renku metadata: node "${nodeId}", ${name}: ${problem}`,
    {
      nodeId,
      property: name,
    },
  );
}

export function isBlank(id: string): boolean {
  return id.startsWith('_:');
}

export function typesOf(node: JsonLdNode): string[] {
  const types = node['@type'];
  return Array.isArray(types) ? types.filter((t): t is string => typeof t === 'string') : [];
}

export function hasType(node: JsonLdNode, wanted: string | readonly string[]): boolean {
  const all = typeof wanted === 'string' ? [wanted] : wanted;
  return typesOf(node).some((type) => all.includes(type));
}

function values(node: JsonLdNode, property: string | readonly string[]): JsonLdValue[] {
  const properties = typeof property === 'string' ? [property] : property;
  const found: JsonLdValue[] = [];
  for (const name of properties) {
    const raw = node[name];
    if (!Array.isArray(raw)) continue;
    for (const value of raw as JsonLdValue[]) {
      // Ordered lists (`@list`) hold the same kind of values one level down.
      if (Array.isArray(value?.['@list'])) found.push(...value['@list']);
      else if (value && typeof value === 'object') found.push(value);
    }
  }
  return found;
}

/** The node identifiers a property points at. */
export function references(node: JsonLdNode, property: string | readonly string[]): string[] {
  return values(node, property)
    .map((value) => value['@id'])
    .filter((id): id is string => typeof id === 'string');
}

/** The first literal of a property, as a string, or null when it has none. */
export function literal(node: JsonLdNode, property: string | readonly string[]): string | null {
  for (const value of values(node, property)) {
    const raw = value['@value'];
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  }
  return null;
}

/** Every literal of a property, as strings, in document order. */
export function literals(node: JsonLdNode, property: string | readonly string[]): string[] {
  return values(node, property)
    .map((value) => value['@value'])
    .filter((raw) => raw !== undefined && raw !== null)
    .map(String);
}

/** An integer literal, or null when absent; anything else is the document's fault. */
export function integer(node: JsonLdNode, property: string): number | null {
  const raw = literal(node, property);
  if (raw === null) return null;
  const number = Number(raw);
  if (!Number.isSafeInteger(number)) {
    throw invalidDocument(node['@id'], property, `"${raw}" is not an integer`);
  }
  return number;
}

/**
 * A timestamp as an ISO 8601 string in UTC, so that stored times compare as
 * strings. Renku 0.x wrote local times without a zone; they are read as UTC.
 */
export function timestamp(node: JsonLdNode, property: string): string | null {
  const raw = literal(node, property);
  if (raw === null) return null;
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/.test(raw);
  const time = new Date(hasZone ? raw : `${raw}Z`);
  if (Number.isNaN(time.getTime())) {
    throw invalidDocument(node['@id'], property, `"${raw}" is not a date and time`);
  }
  return time.toISOString();
}
