/** The IRIs renku's JSON-LD exports use, 0.x and 2.x alike, after expansion. */
const prov = 'http://www.w3.org/ns/prov#';
const wfprov = 'http://purl.org/wf4ever/wfprov#';
const wfdesc = 'http://purl.org/wf4ever/wfdesc#';
const renku = 'https://swissdatasciencecenter.github.io/renku-ontology#';
const schema = 'http://schema.org/';
const foaf = 'http://xmlns.com/foaf/0.1/';
const dcterms = 'http://purl.org/dc/terms/';
const rdfs = 'http://www.w3.org/2000/01/rdf-schema#';

export const Type = {
  activity: [`${prov}Activity`, `${wfprov}ProcessRun`],
  processRun: `${wfprov}ProcessRun`,
  entity: [`${prov}Entity`, `${wfprov}Artifact`],
  collection: `${prov}Collection`,
  plan: [`${prov}Plan`, `${renku}Plan`, `${renku}CompositePlan`, `${wfdesc}Process`],
  usage: `${prov}Usage`,
  generation: `${prov}Generation`,
  association: `${prov}Association`,
  person: [`${schema}Person`, `${foaf}Person`, `${dcterms}Person`, `${prov}Person`],
  input: `${renku}CommandInput`,
  output: `${renku}CommandOutput`,
  parameter: `${renku}CommandParameter`,
  parameterValue: `${renku}ParameterValue`,
  project: `${schema}Project`,
  dataset: `${schema}Dataset`,
  datasetFile: `${schema}DigitalDocument`,
} as const;

export const Property = {
  label: `${rdfs}label`,
  atLocation: `${prov}atLocation`,
  startedAtTime: `${prov}startedAtTime`,
  endedAtTime: `${prov}endedAtTime`,
  qualifiedUsage: `${prov}qualifiedUsage`,
  qualifiedGeneration: `${prov}qualifiedGeneration`,
  qualifiedAssociation: `${prov}qualifiedAssociation`,
  wasAssociatedWith: `${prov}wasAssociatedWith`,
  invalidatedAtTime: `${prov}invalidatedAtTime`,
  wasDerivedFrom: `${prov}wasDerivedFrom`,
  entity: `${prov}entity`,
  activity: `${prov}activity`,
  agent: `${prov}agent`,
  hadPlan: `${prov}hadPlan`,
  hadRole: `${prov}hadRole`,
  checksum: `${renku}checksum`,
  command: `${renku}command`,
  hasInputs: `${renku}hasInputs`,
  hasOutputs: `${renku}hasOutputs`,
  hasArguments: `${renku}hasArguments`,
  position: `${renku}position`,
  prefix: `${renku}prefix`,
  mappedTo: `${renku}mappedTo`,
  streamType: `${renku}streamType`,
  parameter: `${renku}parameter`,
  defaultValue: `${schema}defaultValue`,
  value: `${schema}value`,
  valueReference: `${schema}valueReference`,
  name: [`${schema}name`, `${foaf}name`],
  description: `${schema}description`,
  keywords: `${schema}keywords`,
  identifier: `${schema}identifier`,
  slug: `${renku}slug`,
  dateCreated: `${schema}dateCreated`,
  dateModified: `${schema}dateModified`,
  datePublished: `${schema}datePublished`,
  creator: `${schema}creator`,
  hasPart: `${schema}hasPart`,
  sameAs: `${schema}sameAs`,
  url: `${schema}url`,
  source: `${renku}source`,
  email: `${schema}email`,
  mbox: `${foaf}mbox`,
} as const;

/** Short names for error messages: `prov:entity` reads better than the full IRI. */
export function shortName(iri: string): string {
  const prefixes: Record<string, string> = {
    prov,
    wfprov,
    wfdesc,
    renku,
    schema,
    foaf,
    dcterms,
    rdfs,
  };
  for (const [name, base] of Object.entries(prefixes)) {
    if (iri.startsWith(base)) return `${name}:${iri.slice(base.length)}`;
  }
  return iri;
}
