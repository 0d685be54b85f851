import { apiError, ErrorCode } from '@renku-supergraph/kit';
import type { Driver } from 'neo4j-driver';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';

import { withSession } from '../neo4j';
import { ingestDocument, type IngestSummary, type IngestTarget } from './ingest';

/**
 * Renku 0.9 kept each dataset's metadata in `.renku/datasets/<uuid>/metadata.yml`: JSON-LD
 * written as YAML, with its own inline context. Three things keep it from reading like a
 * later export, and this reader mends them before the common ingestion sees the document:
 * - a dataset file is itself the file entity, where later exports point from the
 *   `schema:DigitalDocument` to the entity with `prov:entity`;
 * - people without an e-mail address are blank nodes, so they would not be the same
 *   person in the next document;
 * - the license is a blank node typed `schema:Dataset`, which would read as a second dataset.
 * What the common ingestion does not store (license, version, tags, affiliations) is
 * written right after it, in a second transaction; both merge, so running it again repairs
 * a half-done ingestion.
 */

const schema = 'http://schema.org/';
const prov = 'http://www.w3.org/ns/prov#';
const renku = 'https://swissdatasciencecenter.github.io/renku-ontology#';

type Tree = Record<string, unknown>;

export interface DatasetTagRecord {
  name: string;
  date: string | null;
  description: string | null;
  commit: string | null;
}

/** What a 0.9 dataset says beyond what the common ingestion reads. */
export interface DatasetExtras {
  id: string;
  license: string | null;
  version: string | null;
  /** 0.9 had no versions of a dataset: each is its own first version. */
  initialVersion: string | null;
  tags: DatasetTagRecord[];
  affiliations: { personId: string; affiliation: string }[];
}

export interface DatasetYaml {
  /** A JSON-LD document the common ingestion takes. */
  document: Tree;
  extras: DatasetExtras;
}

/** Reads one `metadata.yml`; BAD_USER_INPUT when it is not a renku 0.9 dataset. */
export function readDatasetYaml(text: string): DatasetYaml {
  let root: unknown;
  try {
    root = parse(text);
  } catch (error) {
    throw invalid(`not YAML: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
  }
  if (!isTree(root) || typeof root._id !== 'string' || !typesOf(root).includes('schema:Dataset')) {
    throw invalid('the root is not a schema:Dataset with an _id');
  }

  const creators = list(root.creator).filter(isTree);
  const affiliations = creators.flatMap((creator) => {
    const personId = identifyPerson(creator);
    const affiliation = textOf(creator.affiliation);
    return affiliation === null ? [] : [{ personId, affiliation }];
  });
  const project = isTree(root._project) ? root._project : undefined;
  if (project && isTree(project.creator)) identifyPerson(project.creator);

  const files = list(root.files).filter(isTree);
  const document: Tree = {
    ...root,
    creator: creators,
    files: files.map(toDatasetFile),
    [`${renku}slug`]: slugOf(textOf(root.name), files),
  };
  // Kept apart below; see the comment at the top.
  delete document.license;
  delete document.tags;

  return {
    document,
    extras: {
      id: root._id,
      license: isTree(root.license) ? textOf(root.license.url) : textOf(root.license),
      version: textOf(root.version),
      initialVersion: textOf(root.identifier),
      tags: list(root.tags)
        .filter(isTree)
        .flatMap((tag) => {
          const name = textOf(tag.name);
          if (name === null) return [];
          return [
            {
              name,
              date: instant(tag.created),
              description: textOf(tag.description),
              commit: textOf(tag.commit),
            },
          ];
        }),
      affiliations,
    },
  };
}

/** Ingests one renku 0.9 `metadata.yml` into the project `target` names. */
export async function ingestDatasetYaml(
  driver: Driver,
  target: IngestTarget,
  text: string,
): Promise<IngestSummary> {
  const { document, extras } = readDatasetYaml(text);
  const summary = await ingestDocument(driver, target, document);

  await withSession(driver, (session) =>
    session.executeWrite(async (tx) => {
      await tx.run(
        `MATCH (dataset:Dataset {projectPath: $project, id: $id})
         SET dataset.license = $license, dataset.version = $version,
             dataset.initialVersion = $initialVersion
         WITH dataset
         UNWIND $tags AS tag
         MERGE (t:DatasetTag {projectPath: $project, id: dataset.id + '@' + tag.name})
         SET t.name = tag.name, t.date = tag.date, t.description = tag.description,
             t.commit = tag.commit
         MERGE (dataset)-[:HAS_TAG]->(t)`,
        { project: target.projectPath, ...extras },
      );
      await tx.run(
        `UNWIND $affiliations AS row
         MATCH (person:Person {id: row.personId})
         SET person.affiliation = row.affiliation`,
        { affiliations: extras.affiliations },
      );
    }),
  );
  return summary;
}

/**
 * Gives a person a lasting identifier: `mailto:` with an e-mail address, else one made from
 * name and affiliation, the only other things 0.9 knew about a person.
 */
function identifyPerson(person: Tree): string {
  const current = textOf(person._id);
  const email = textOf(person.email);
  let id: string;
  if (current !== null && !current.startsWith('_:')) id = current;
  else if (email !== null) id = `mailto:${email}`;
  else {
    const name = textOf(person.name) ?? textOf(person.label);
    if (name === null) throw invalid('a creator has neither an identifier, an e-mail nor a name');
    const digest = createHash('sha256')
      .update(`${name}\n${textOf(person.affiliation) ?? ''}`)
      .digest('hex');
    id = `urn:renku-supergraph:person:${digest.slice(0, 32)}`;
  }
  person._id = id;
  return id;
}

/** A dataset file the way later exports write it: the document points at its entity. */
function toDatasetFile(file: Tree): Tree {
  if (typeof file._id !== 'string' || typeof file.path !== 'string') {
    throw invalid('a dataset file has no _id or no path');
  }
  return {
    '@type': [`${schema}DigitalDocument`],
    [`${schema}dateCreated`]: textOf(file.added),
    [`${renku}source`]: textOf(file.url),
    [`${prov}entity`]: {
      '@id': file._id,
      '@type': [`${prov}Entity`],
      [`${prov}atLocation`]: file.path,
    },
  };
}

/**
 * 0.9 had no slug; renku put a dataset's files in `data/<its short name>/`, so that folder
 * is the slug when all files agree, else one is made from the name as renku did.
 */
function slugOf(name: string | null, files: Tree[]): string | null {
  const folders = new Set(
    files.map((file) => /^data\/([^/]+)\//.exec(String(file.path))?.[1] ?? null),
  );
  const [folder] = folders;
  if (folders.size === 1 && folder) return folder;
  if (name === null) return null;
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function invalid(problem: string) {
  return apiError(ErrorCode.BadUserInput, `invalid renku 0.9 dataset metadata: ${problem}`);
}

function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function typesOf(node: Tree): string[] {
  return list(node['@type']).filter((type): type is string => typeof type === 'string');
}

function textOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Renku 0.9 wrote microseconds and `+00:00`; the graph keeps ISO 8601 in UTC. */
function instant(value: unknown): string | null {
  const raw = textOf(value);
  if (raw === null) return null;
  const time = new Date(raw);
  if (Number.isNaN(time.getTime())) throw invalid(`"${raw}" is not a date and time`);
  return time.toISOString();
}
