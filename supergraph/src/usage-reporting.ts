import { ConfigError, readUrl, type UsageReportingOptions } from '@renku-supergraph/kit';

type Env = Record<string, string | undefined>;

/**
 * Apollo GraphOS usage reporting, on only when both APOLLO_KEY and APOLLO_GRAPH_REF are set.
 * APOLLO_USAGE_REPORTING_URL (default Apollo's ingress) sends the reports elsewhere.
 */
export function readUsageReporting(env: Env): UsageReportingOptions | undefined {
  const key = env.APOLLO_KEY?.trim();
  const graphRef = env.APOLLO_GRAPH_REF?.trim();
  if (!key && !graphRef) return undefined;
  if (!key || !graphRef) {
    const missing = key ? 'APOLLO_GRAPH_REF' : 'APOLLO_KEY';
    throw new ConfigError(
      missing,
      'is required when the other of APOLLO_KEY and APOLLO_GRAPH_REF is set',
    );
  }
  return {
    key,
    graphRef,
    endpointUrl: env.APOLLO_USAGE_REPORTING_URL
      ? readUrl(env, 'APOLLO_USAGE_REPORTING_URL')
      : undefined,
  };
}
