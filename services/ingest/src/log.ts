/** The ingest plane's logger: see @coffer/http's redactingLogger for what never reaches a line. */
import { redactingLogger } from '@coffer/http';
import type { DestinationStream, Logger } from 'pino';

export function ingestLogger(destination?: DestinationStream): Logger {
  return redactingLogger('ingest', destination);
}
