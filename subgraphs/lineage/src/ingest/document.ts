import { hasType, invalidDocument, isBlank, type JsonLdNode, literal, references } from './nodes';
import { Property, Type } from './vocabulary';

export interface PersonRecord {
  id: string;
  name: string | null;
  email: string | null;
}

/**
 * A flattened, expanded document with the lookups every reader needs:
 * following references (a dangling one is the document's fault) and naming
 * nodes in errors.
 */
export class RenkuDocument {
  private readonly byId: Map<string, JsonLdNode>;
  private readonly owners: Map<string, string>;
  readonly persons = new Map<string, PersonRecord>();

  constructor(readonly nodes: readonly JsonLdNode[]) {
    this.byId = new Map(nodes.map((node) => [node['@id'], node]));
    this.owners = ownersOfBlankNodes(nodes, this.byId);
  }

  ofType(types: string | readonly string[]): JsonLdNode[] {
    return this.nodes.filter((node) => hasType(node, types));
  }

  get(id: string): JsonLdNode | undefined {
    return this.byId.get(id);
  }

  /** Blank node labels are made up by flattening: the node that holds one names it. */
  nameOf(node: JsonLdNode): string {
    const owner = this.owners.get(node['@id']);
    return owner ? `${owner} > ${node['@id']}` : node['@id'];
  }

  /** The nodes a property points at; each must be in the document and be what is expected. */
  follow(
    from: JsonLdNode,
    property: string,
    accepts: (node: JsonLdNode) => boolean = () => true,
  ): JsonLdNode[] {
    return references(from, property).map((id) => {
      const target = this.byId.get(id);
      if (!target || !accepts(target)) {
        const problem = target
          ? `"${id}" is not of the expected type`
          : `refers to "${id}", which is not in the document`;
        throw invalidDocument(this.nameOf(from), property, problem);
      }
      return target;
    });
  }

  /** Nodes a property points at that the document holds; others are left out. */
  followPresent(from: JsonLdNode, property: string): JsonLdNode[] {
    return references(from, property)
      .map((id) => this.byId.get(id))
      .filter((node): node is JsonLdNode => node !== undefined);
  }

  requireId(node: JsonLdNode, what: string): void {
    if (!isBlank(node['@id'])) return;
    const label = literal(node, Property.label) ?? literal(node, Property.name);
    const described = label ? `${what} ("${label}")` : what;
    throw invalidDocument(this.nameOf(node), '@id', `${described} has no @id`);
  }

  /** People keep their identifier across documents: a blank one is replaced by the e-mail. */
  readPerson(node: JsonLdNode): PersonRecord {
    const name = literal(node, Property.name);
    const mbox = references(node, Property.mbox)[0] ?? null;
    const email = literal(node, Property.email) ?? mbox?.replace(/^mailto:/, '') ?? null;
    let id = node['@id'];
    if (isBlank(id)) {
      if (!email) {
        throw invalidDocument(
          this.nameOf(node),
          Property.email,
          'a person without @id needs an e-mail address',
        );
      }
      id = `mailto:${email}`;
    }
    const person = { id, name, email };
    this.persons.set(id, person);
    return person;
  }

  /** The people among the nodes a property points at (agents may be software too). */
  people(from: JsonLdNode, property: string): PersonRecord[] {
    return this.followPresent(from, property)
      .filter((node) => hasType(node, Type.person))
      .map((node) => this.readPerson(node));
  }
}

/** For each blank node, the nearest named node that refers to it. */
function ownersOfBlankNodes(
  nodes: readonly JsonLdNode[],
  byId: Map<string, JsonLdNode>,
): Map<string, string> {
  const owners = new Map<string, string>();
  const blankReferences = (node: JsonLdNode) =>
    Object.keys(node)
      .filter((key) => !key.startsWith('@'))
      .flatMap((key) => references(node, key))
      .filter(isBlank);

  let frontier = nodes.filter((node) => !isBlank(node['@id']));
  while (frontier.length > 0) {
    const next: JsonLdNode[] = [];
    for (const node of frontier) {
      const owner = owners.get(node['@id']) ?? node['@id'];
      for (const id of blankReferences(node)) {
        const target = byId.get(id);
        if (owners.has(id) || !target) continue;
        owners.set(id, owner);
        next.push(target);
      }
    }
    frontier = next;
  }
  return owners;
}
