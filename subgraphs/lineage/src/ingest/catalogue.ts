import type { RenkuDocument } from './document';
import { type JsonLdNode, literal, literals, references, timestamp } from './nodes';
import { Property, Type } from './vocabulary';

/** What a 2.x export says about the project itself (0.x exports say nothing). */
export interface ProjectMetadata {
  name: string | null;
  description: string | null;
  keywords: string[];
  createdAt: string | null;
  creatorIds: string[];
}

export interface DatasetRecord {
  id: string;
  identifier: string | null;
  name: string | null;
  slug: string | null;
  description: string | null;
  keywords: string[];
  createdAt: string | null;
  publishedAt: string | null;
  modifiedAt: string | null;
  /** Set when a later version replaced or removed this one. */
  invalidatedAt: string | null;
  /** Where an imported dataset came from. */
  sameAs: string | null;
  /** The dataset this one is a modified copy of. */
  derivedFrom: string | null;
  creatorIds: string[];
  parts: DatasetPartRecord[];
}

export interface DatasetPartRecord {
  fileId: string;
  addedAt: string | null;
  invalidatedAt: string | null;
  source: string | null;
}

export function readProjectMetadata(document: RenkuDocument): ProjectMetadata | null {
  const [project] = document.ofType(Type.project);
  if (!project) return null;
  return {
    name: literal(project, Property.name),
    description: literal(project, Property.description),
    keywords: literals(project, Property.keywords),
    createdAt: timestamp(project, Property.dateCreated),
    creatorIds: document.people(project, Property.creator).map((person) => person.id),
  };
}

/**
 * Datasets and the files they hold. A dataset file (`schema:DigitalDocument`)
 * points at the entity with its path; that entity must be in the document.
 */
export function readDatasets(document: RenkuDocument): DatasetRecord[] {
  return document.ofType(Type.dataset).map((dataset) => {
    document.requireId(dataset, 'a dataset');
    const parts = document.follow(dataset, Property.hasPart).flatMap((part) =>
      document.follow(part, Property.entity).map((entity) => ({
        fileId: entity['@id'],
        addedAt: timestamp(part, Property.dateCreated),
        invalidatedAt: timestamp(part, Property.invalidatedAtTime),
        source: literal(part, Property.source),
      })),
    );
    return {
      id: dataset['@id'],
      identifier: literal(dataset, Property.identifier),
      name: literal(dataset, Property.name),
      slug: literal(dataset, Property.slug),
      description: literal(dataset, Property.description),
      keywords: literals(dataset, Property.keywords),
      createdAt: timestamp(dataset, Property.dateCreated),
      publishedAt: timestamp(dataset, Property.datePublished),
      modifiedAt: timestamp(dataset, Property.dateModified),
      invalidatedAt: timestamp(dataset, Property.invalidatedAtTime),
      sameAs: urlOf(document, dataset, Property.sameAs),
      derivedFrom: urlOf(document, dataset, Property.wasDerivedFrom),
      creatorIds: document.people(dataset, Property.creator).map((person) => person.id),
      parts,
    };
  });
}

/** Renku wraps links in `schema:URL` nodes; the link is their `schema:url`. */
function urlOf(document: RenkuDocument, node: JsonLdNode, property: string): string | null {
  const [id] = references(node, property);
  if (id === undefined) return literal(node, property);
  const wrapper = document.get(id);
  if (!wrapper) return id;
  return references(wrapper, Property.url)[0] ?? literal(wrapper, Property.url) ?? id;
}
