/**
 * Small renku 0.x-style exports written for the tests, in compacted JSON-LD
 * with the prefixes renku used, so that ingestion's expansion is exercised too.
 */
export interface RunSpec {
  commit: string;
  command: string;
  used: string[];
  generated: string[];
  /** ISO time; the later of two producers of a path is the one that counts. */
  at: string;
}

const context = {
  prov: 'http://www.w3.org/ns/prov#',
  wfprov: 'http://purl.org/wf4ever/wfprov#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  foaf: 'http://xmlns.com/foaf/0.1/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
};

/** A 40-hex commit id made from a short name, so ids read like renku's. */
export function sha(name: string): string {
  return Buffer.from(name).toString('hex').padEnd(40, '0').slice(0, 40);
}

export function zeroXDocument(
  runs: RunSpec[],
  plainFiles: { commit: string; path: string }[] = [],
) {
  const entity = (commit: string, path: string) => `/${commit}/${path}`;
  const files = new Map<string, object>();
  const file = (commit: string, path: string, generation?: object) => {
    const id = entity(commit, path);
    files.set(id, {
      '@id': id,
      '@type': ['prov:Entity', 'wfprov:Artifact'],
      'rdfs:label': `${path}@${commit}`,
      ...(generation ? { 'prov:qualifiedGeneration': generation } : {}),
    });
    return id;
  };
  for (const plain of plainFiles) file(plain.commit, plain.path);

  const activities = runs.map((run, index) => {
    const id = `/${run.commit}#`;
    for (const path of run.generated) {
      file(run.commit, path, { '@type': 'prov:Generation', 'prov:activity': { '@id': id } });
    }
    return {
      '@id': id,
      '@type': ['prov:Activity', 'wfprov:ProcessRun'],
      'rdfs:label': `renku run ${run.command}`,
      'prov:startedAtTime': { '@type': 'xsd:dateTime', '@value': run.at },
      'prov:endedAtTime': { '@type': 'xsd:dateTime', '@value': run.at },
      'prov:qualifiedUsage': run.used.map((path, role) => ({
        '@type': 'prov:Usage',
        'prov:hadRole': `input_${role}`,
        // Inputs refer to the version of the file that a plain commit or an earlier run wrote.
        'prov:entity': { '@id': versionOf(path) },
      })),
      'prov:qualifiedAssociation': {
        '@type': 'prov:Association',
        'prov:agent': { '@id': 'mailto:tester@example.org' },
        'prov:hadPlan': {
          '@id': `/${run.commit}/.renku/workflow/step${index}.cwl`,
          '@type': ['prov:Entity', 'prov:Plan'],
        },
      },
    };
  });

  function versionOf(path: string): string {
    const producer = [...runs].reverse().find((run) => run.generated.includes(path));
    const plain = plainFiles.find((f) => f.path === path);
    if (producer) return entity(producer.commit, path);
    if (plain) return entity(plain.commit, path);
    throw new Error(`test document: nothing provides ${path}`);
  }

  return {
    '@context': context,
    '@graph': [
      ...activities,
      ...files.values(),
      {
        '@id': 'mailto:tester@example.org',
        '@type': 'foaf:Person',
        'foaf:name': 'Tess Ter',
      },
    ],
  };
}
