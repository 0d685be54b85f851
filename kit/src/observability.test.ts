import { BoundedLabels } from './metrics';
import { readObservabilityConfig } from './observability';
import { acceptRequestId } from './request-context';

describe('observability settings', () => {
  it('keep metrics and tracing off unless configured', () => {
    expect(readObservabilityConfig({}, 'projects')).toEqual({
      logLevel: 'info',
      metrics: undefined,
      tracing: undefined,
    });
  });

  it('serve metrics on their own port and name spans after the service', () => {
    const config = readObservabilityConfig(
      { METRICS_PORT: '9464', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' },
      'projects',
    );

    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1', maxOperations: 100 });
    expect(config.tracing).toEqual({ endpoint: 'http://otel:4318', serviceName: 'projects' });
  });

  it('read the log level, every pino level included', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      expect(readObservabilityConfig({ LOG_LEVEL: level }, 'lineage').logLevel).toBe(level);
    }
    // Empty is unset, as for every other setting.
    expect(readObservabilityConfig({ LOG_LEVEL: '' }, 'lineage').logLevel).toBe('info');
  });

  it('name the setting that is wrong', () => {
    expect(() => readObservabilityConfig({ LOG_LEVEL: 'INFO' }, 'gateway')).toThrow(
      /configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "INFO"/,
    );
    expect(() => readObservabilityConfig({ METRICS_PORT: 'x' }, 'gateway')).toThrow(/METRICS_PORT/);
    expect(() =>
      readObservabilityConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318' }, 'gateway'),
    ).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('request ids', () => {
  it('keeps a short id of safe characters', () => {
    expect(acceptRequestId('a1B2.c3:d4_e5-f6')).toBe('a1B2.c3:d4_e5-f6');
    expect(acceptRequestId(['first', 'second'])).toBe('first');
  });

  it('replaces a missing, long or unsafe id with a new one', () => {
    for (const given of [undefined, '', 'x'.repeat(65), 'two words', 'a\r\nb', '<script>']) {
      expect(acceptRequestId(given)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
    }
  });
});

describe('bounded metric labels', () => {
  it('keep the first distinct names and count the rest as other', () => {
    const labels = new BoundedLabels(2, /^[A-Za-z]+$/);

    expect(['One', 'Two', 'Three', 'One', 'Two'].map((name) => labels.label(name))).toEqual([
      'One',
      'Two',
      'other',
      'One',
      'Two',
    ]);
  });

  it('count names that are not sane as other without using a slot', () => {
    const labels = new BoundedLabels(1, /^[A-Za-z]+$/);

    expect(labels.label('bad name')).toBe('other');
    expect(labels.label('Good')).toBe('Good');
  });
});
