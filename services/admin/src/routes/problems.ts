/** Problem answers more than one route gives. */
import { sendProblem } from '@coffer/http';
import type { SuiteRefused } from '@coffer/keyring';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The org's signed configuration does not verify (or would be a downgrade): logged as an alert, 409. */
export function sendSuiteRefused(req: FastifyRequest, reply: FastifyReply, err: SuiteRefused, title: string) {
  req.log.warn({ alert: 'org-config' }, err.message);
  return sendProblem(reply, { status: 409, type: 'suite-refused', title, detail: err.message });
}
