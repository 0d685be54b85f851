import { fetchWithin } from '@renku-supergraph/kit';

/** How long one subgraph may take to answer its readiness probe. */
const probeTimeoutMs = 2_000;

/**
 * The gateway is ready when every subgraph is: each answers its `/health/ready`, which asks
 * its own backends. Throws naming the subgraphs that are not.
 */
export async function subgraphsReady(subgraphUrls: ReadonlyMap<string, string>): Promise<void> {
  const answers = await Promise.all(
    [...subgraphUrls].map(async ([name, url]) => {
      try {
        const response = await fetchWithin(
          new URL('/health/ready', url).href,
          undefined,
          probeTimeoutMs,
        );
        return response.ok ? undefined : name;
      } catch {
        return name;
      }
    }),
  );
  const down = answers.filter((name) => name !== undefined);
  if (down.length > 0) throw new Error(`subgraphs not ready: ${down.join(', ')}`);
}
