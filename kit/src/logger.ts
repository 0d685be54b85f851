import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Anything that may carry a credential is redacted
 * wherever it appears in a log record. Lines go to stdout unless `destination` is given
 * (tests read them back).
 *
 * Services pass the level their config.ts read (ObservabilityConfig.logLevel); the default
 * reads LOG_LEVEL for command-line tools and test helpers, which have no config.ts.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'password',
        'secret',
        'token',
        '*.password',
        '*.secret',
        '*.token',
        'headers.authorization',
        'headers.cookie',
        '*.headers.authorization',
        '*.headers.cookie',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
