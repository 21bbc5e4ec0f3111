/**
 * A service logger that never prints a request body, a value, a password, a token, a cookie or
 * a CSRF value, even if one reaches a log object by accident.
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
  'csrf',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'req.headers["x-coffer-csrf"]',
  'res.headers["set-cookie"]',
];

export function redactingLogger(name: string, destination?: DestinationStream): Logger {
  const options = { name, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
