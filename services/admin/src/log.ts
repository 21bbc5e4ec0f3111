/** The admin plane's logger: passwords, tokens, cookies and revealed values never reach a line. */
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
  'req.headers.cookie',
  'req.headers["x-coffer-csrf"]',
  'res.headers["set-cookie"]',
];

export function adminLogger(destination?: DestinationStream): Logger {
  const options = { name: 'admin', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
