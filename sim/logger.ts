/**
 * pino loggers. Private keys and tokens are redacted wherever they might appear in a logged object.
 */
import pino, { type Logger } from 'pino';

export const REDACT = ['*.key', '*.keyPem', '*.privateKey', '*.token', '*.password', '*["client-key-data"]', 'key', 'keyPem', 'token'];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? process.env.LOG_LEVEL ?? 'silent', name: options.name ?? 'sim', redact: { paths: REDACT, censor: '[redacted]' } });
}

/** A logger that writes nothing: the default for tests. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
