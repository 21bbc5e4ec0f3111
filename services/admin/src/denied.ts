/**
 * A refusal the admin plane decides itself (not the vault's): audited against the session through
 * the vault's `denied`, under the route's own `action`, then answered 409. These resolve to no
 * reply object: a FastifyReply is thenable, so awaiting one would wait for the response instead.
 */
import type { Bus } from '@coffer/bus';
import { callVault } from '@coffer/bus';
import { recipientPublicKey } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from './session.ts';

export async function sendDenied(
  bus: Bus,
  req: FastifyRequest,
  reply: FastifyReply,
  reason: string,
  problem: { type: string; title: string; detail?: string },
): Promise<void> {
  const action = req.routeOptions.config.action;
  if (action === undefined) throw new Error('an audited refusal needs a route that names its action');
  await callVault(bus, 'denied', { v: 1, session: req.session.hash, action, reason, origin: originOf(req) });
  sendProblem(reply, { status: 409, ...problem });
}

/**
 * The key-admin types the fingerprint the person read out: unless it is this key's (white space
 * aside), the refusal is audited and answered 409, and this is true.
 */
export async function refuseOtherFingerprint(
  bus: Bus,
  req: FastifyRequest,
  reply: FastifyReply,
  publicKey: string,
  typed: string,
): Promise<boolean> {
  const userPublic = recipientPublicKey(publicKey);
  if (typed.replace(/\s+/g, '') === userPublic.fingerprint().replace(/\s+/g, '')) return false;
  await sendDenied(bus, req, reply, 'fingerprint mismatch', {
    type: 'fingerprint-mismatch',
    title: 'The fingerprint does not match the key this user set up',
  });
  return true;
}
