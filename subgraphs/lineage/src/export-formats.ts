import type { Lineage, LineageNode } from './lineage';

const shapes: Record<LineageNode['type'], string> = {
  ProcessRun: 'box',
  File: 'ellipse',
  Directory: 'folder',
};

/** A lineage answer as a Graphviz digraph: runs are boxes, files ellipses, folders folders. */
export function toDot(lineage: Lineage): string {
  const lines = ['digraph lineage {', '  rankdir=LR;'];
  for (const node of lineage.nodes) {
    lines.push(`  ${quote(node.id)} [label=${quote(node.label)}, shape=${shapes[node.type]}];`);
  }
  for (const edge of lineage.edges) {
    lines.push(`  ${quote(edge.source)} -> ${quote(edge.target)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** A DOT quoted string: only `"` and `\` need escaping, and line breaks become `\n`. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/**
 * A lineage answer in W3C PROV, as compacted JSON-LD: files are `prov:Entity` (folders also
 * `prov:Collection`) with `prov:atLocation` and `prov:wasGeneratedBy`, runs `prov:Activity` with
 * `prov:used`. Renku's own identifiers are relative in 0.x exports, so every node gets an IRI
 * under the project: `urn:renku-supergraph:<project>:file:<path>` or `...:run:<run id>`.
 */
export function toProvJsonLd(lineage: Lineage, projectPath: string): string {
  const base = `urn:renku-supergraph:${encodeURIComponent(projectPath)}`;
  const iri = (node: LineageNode) =>
    `${base}:${node.type === 'ProcessRun' ? 'run' : 'file'}:${encodeURIComponent(node.id)}`;
  const byId = new Map(lineage.nodes.map((node) => [node.id, node]));
  // Edges go input -> run -> output: a run's sources are what it used, a file's its producers.
  const sources = (target: string) =>
    lineage.edges.filter((edge) => edge.target === target).map((edge) => byId.get(edge.source));
  const refs = (nodes: (LineageNode | undefined)[]) =>
    nodes
      .filter((node): node is LineageNode => node !== undefined)
      .map((node) => ({
        '@id': iri(node),
      }));

  const graph = lineage.nodes.map((node) =>
    node.type === 'ProcessRun'
      ? {
          '@id': iri(node),
          '@type': 'prov:Activity',
          'rdfs:label': node.label,
          'prov:used': refs(sources(node.id)),
        }
      : {
          '@id': iri(node),
          '@type': node.type === 'Directory' ? ['prov:Entity', 'prov:Collection'] : 'prov:Entity',
          'rdfs:label': node.label,
          'prov:atLocation': node.location,
          'prov:wasGeneratedBy': refs(sources(node.id)),
        },
  );
  return JSON.stringify(
    {
      '@context': {
        prov: 'http://www.w3.org/ns/prov#',
        rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
      },
      '@graph': graph,
    },
    null,
    2,
  );
}
