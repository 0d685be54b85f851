import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** One entry of rover.yaml's `subgraphs`. */
export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schemaFile: string;
}

interface RoverConfig {
  federation_version?: string;
  subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
}

/** Reads rover.yaml; schema files are resolved against the file's folder, as rover does. */
export function readRoverConfig(file: string): SubgraphEntry[] {
  const config = YAML.parse(fs.readFileSync(file, 'utf8')) as RoverConfig;
  const entries = Object.entries(config.subgraphs ?? {});
  if (entries.length === 0) throw new Error(`${file} names no subgraphs`);

  return entries.map(([name, entry]) => {
    if (!entry.routing_url || !entry.schema?.file) {
      throw new Error(`${file}: subgraph ${name} needs routing_url and schema.file`);
    }
    return {
      name,
      routingUrl: entry.routing_url,
      schemaFile: path.resolve(path.dirname(file), entry.schema.file),
    };
  });
}

/** Composes the supergraph SDL, or throws with every composition error. */
export function composeSupergraph(subgraphs: SubgraphEntry[]): string {
  const result = composeServices(
    subgraphs.map((subgraph) => ({
      name: subgraph.name,
      url: subgraph.routingUrl,
      typeDefs: parse(fs.readFileSync(subgraph.schemaFile, 'utf8')),
    })),
  );
  if (result.errors) {
    const messages = result.errors.map((error) => `- ${error.message}`).join('\n');
    throw new Error(`composition failed:\n${messages}`);
  }
  return `${result.supergraphSdl.trimEnd()}\n`;
}
