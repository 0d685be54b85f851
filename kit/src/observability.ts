import { ConfigError, readInteger, readPort, readString, readUrl } from './config';

type Env = Record<string, string | undefined>;

/** pino's levels; `silent` logs nothing. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/**
 * How a service shows what it does. Read once by each service's config.ts and handed to
 * createLogger and serveGraphQL.
 */
export interface ObservabilityConfig {
  /** The level of the service's JSON log. */
  logLevel: LogLevel;
  /** Prometheus metrics on their own listener; absent: no metrics are kept at all. */
  metrics?: {
    port: number;
    host: string;
    /** Distinct operation names kept as labels; later ones count as `other`. */
    maxOperations: number;
  };
  /** OpenTelemetry traces over OTLP/HTTP; absent: no tracing code is even loaded. */
  tracing?: {
    /** The collector's base URL; spans go to `<endpoint>/v1/traces`. */
    endpoint: string;
    serviceName: string;
  };
}

/**
 * Every service reads the same settings, so that operators configure them alike.
 *
 * | setting | default | meaning |
 * | LOG_LEVEL | info | pino level: fatal, error, warn, info, debug, trace or silent |
 * | METRICS_PORT | none: metrics off | port of the Prometheus `/metrics` listener (0: a free one) |
 * | METRICS_HOST | 127.0.0.1 | its address; the pod's address in Kubernetes, never a public one |
 * | METRICS_MAX_OPERATIONS | 100 | distinct operation names kept as metric labels |
 * | OTEL_EXPORTER_OTLP_ENDPOINT | none: tracing off | OTLP/HTTP collector, e.g. http://otel:4318 |
 * | OTEL_SERVICE_NAME | the service's name | service.name of its spans |
 */
export function readObservabilityConfig(env: Env, serviceName: string): ObservabilityConfig {
  const logLevel = readString(env, 'LOG_LEVEL', 'info');
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${logLevels.join(', ')}, not "${logLevel}"`);
  }
  const metricsPort = env.METRICS_PORT ? readPort(env, 'METRICS_PORT', 0) : undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? readUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
    : undefined;
  // OTLP over HTTP only; a gRPC-style `host:4317` would parse as a URL with an odd scheme.
  if (endpoint && !/^https?:\/\//.test(endpoint)) {
    throw new ConfigError(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      `must be an http(s) URL, not "${endpoint}"`,
    );
  }
  return {
    logLevel: logLevel as LogLevel,
    metrics:
      metricsPort === undefined
        ? undefined
        : {
            port: metricsPort,
            host: readString(env, 'METRICS_HOST', '127.0.0.1'),
            maxOperations: readInteger(env, 'METRICS_MAX_OPERATIONS', 100, 1),
          },
    tracing: endpoint
      ? { endpoint, serviceName: readString(env, 'OTEL_SERVICE_NAME', serviceName) }
      : undefined,
  };
}
