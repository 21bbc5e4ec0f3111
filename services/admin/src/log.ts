/** The admin plane's logger: see @coffer/http's redactingLogger for what never reaches a line. */
import { redactingLogger } from '@coffer/http';
import type { DestinationStream, Logger } from 'pino';

export function adminLogger(destination?: DestinationStream): Logger {
  return redactingLogger('admin', destination);
}
