import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { RequestHandler } from 'express';

import type { Logger } from './logger';
import type { ObservabilityConfig } from './observability';

type TracingConfig = NonNullable<ObservabilityConfig['tracing']>;

interface Provider {
  forceFlush(): Promise<void>;
}

let provider: Provider | undefined;

/** Whether this process sends traces; without it every helper here does nothing. */
export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/**
 * Sends this process's spans to an OTLP/HTTP collector and instruments outgoing HTTP (node:http
 * and fetch, which also carry the W3C `traceparent` on). Once per process: a second service in
 * the same process (tests) shares the first one's provider and service name.
 */
export function startTracing(config: TracingConfig, log: Logger): void {
  if (provider) return;

  // Loaded here, not at the top, so that a service without tracing never loads the SDK.
  const { AsyncLocalStorageContextManager } =
    require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } =
    require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } =
    require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BasicTracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');

  const tracerProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.endpoint}/v1/traces` })),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  registerInstrumentations({
    tracerProvider,
    instrumentations: [
      // Incoming requests get their span from `traceRequests`, which knows the request id.
      new HttpInstrumentation({ ignoreIncomingRequestHook: () => true }),
      new UndiciInstrumentation(),
    ],
  });
  provider = tracerProvider;
  log.info({ endpoint: config.endpoint, serviceName: config.serviceName }, 'tracing on');
}

/** Sends the spans not yet sent; a service calls it when it stops. */
export async function flushTraces(): Promise<void> {
  await provider?.forceFlush();
}

/** The tracer of our own spans. */
function tracer() {
  return trace.getTracer('renku-supergraph');
}

/**
 * A server span per HTTP request, continuing the trace its caller started (`traceparent`).
 * Mounted only when tracing is on.
 */
export function traceRequests(service: string): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method} ${req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.path,
          'renku.service': service,
          ...(res.locals.requestId && { 'request.id': res.locals.requestId as string }),
        },
      },
      parent,
    );
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/**
 * Runs `work` in a span of its own when tracing is on, else just runs it. `work` fails as it
 * would have; the span records the failure.
 */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  work: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!provider) return work();
  return tracer().startActiveSpan(name, { kind, attributes }, async (span: Span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A span around one Neo4j unit of work (a session's executeRead or executeWrite), named for
 * what it does; the Bolt driver itself has no instrumentation.
 */
export function traceUnitOfWork<T>(
  what: string,
  database: string,
  mode: 'read' | 'write',
  work: () => Promise<T>,
): Promise<T> {
  return inSpan(
    `neo4j ${mode} ${what}`,
    { 'db.system.name': 'neo4j', 'db.namespace': database, 'db.operation.name': what },
    work,
    SpanKind.CLIENT,
  );
}
