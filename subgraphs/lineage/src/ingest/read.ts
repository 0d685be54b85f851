import {
  type DatasetRecord,
  type ProjectMetadata,
  readDatasets,
  readProjectMetadata,
} from './catalogue';
import { type PersonRecord, RenkuDocument } from './document';
import { expandDocument } from './expand';
import { type Provenance, readProvenance } from './provenance';

/** Everything one renku export says, in the shape of the graph model. */
export interface RenkuExport {
  provenance: Provenance;
  project: ProjectMetadata | null;
  datasets: DatasetRecord[];
  /** Every person any part refers to. */
  persons: PersonRecord[];
}

/**
 * Reads a renku JSON-LD export in any JSON-LD form. Throws BAD_USER_INPUT,
 * naming the node and property at fault, before anything is written.
 */
export async function readRenkuExport(raw: unknown): Promise<RenkuExport> {
  const document = new RenkuDocument(await expandDocument(raw));
  const provenance = readProvenance(document);
  const project = readProjectMetadata(document);
  const datasets = readDatasets(document);
  return { provenance, project, datasets, persons: [...document.persons.values()] };
}
