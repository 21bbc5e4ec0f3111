/**
 * Ingest's logger. Request bodies are never logged; these paths are redacted as well, in case a
 * value or credential reaches a log object some other way.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.body',
  'body',
  'value',
  '*.value',
  'password',
  '*.password',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
];

export function ingestLogger(destination?: DestinationStream): Logger {
  const options = { name: 'ingest', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
