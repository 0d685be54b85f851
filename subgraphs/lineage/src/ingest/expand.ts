import { apiError, ErrorCode } from '@renku-supergraph/kit';
import jsonld from 'jsonld';

import type { JsonLdNode } from './nodes';

/**
 * Contexts must be inline. Fetching one would send a request to whatever host
 * the document names, and make ingestion depend on that host being up.
 */
async function offlineDocumentLoader(url: string): Promise<never> {
  throw new Error(`remote JSON-LD context "${url}" refused: contexts must be inline`);
}

/**
 * Expands the document (so compacted, expanded and differently prefixed forms
 * read alike), then flattens it: nested nodes become top-level nodes, and every
 * node appears once with all its properties merged.
 */
export async function expandDocument(document: unknown): Promise<JsonLdNode[]> {
  if (document === null || typeof document !== 'object') {
    throw apiError(
      ErrorCode.BadUserInput,
      'invalid renku metadata: a JSON-LD document is an object or an array',
    );
  }
  const options = { documentLoader: offlineDocumentLoader as never };
  try {
    const expanded = await jsonld.expand(document as jsonld.JsonLdDocument, options);
    const flat = await jsonld.flatten(expanded, null as never, options);
    return (Array.isArray(flat) ? flat : [flat]) as JsonLdNode[];
  } catch (error) {
    throw apiError(ErrorCode.BadUserInput, `invalid renku metadata: ${describeJsonLdError(error)}`);
  }
}

/** jsonld.js puts the useful part (a refused URL, the bad term) in `details`. */
function describeJsonLdError(error: unknown): string {
  if (!(error instanceof Error)) return 'not valid JSON-LD';
  const details = (error as { details?: { cause?: unknown; code?: string } }).details;
  if (details?.cause instanceof Error) return details.cause.message;
  const code = details?.code ? ` (${details.code})` : '';
  return `${error.message}${code}`;
}
