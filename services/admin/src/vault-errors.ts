/** How a vault refusal or an unreachable bus reads over HTTP. */
import { BusUnavailableError, VaultRefused, VaultReplyUnauthenticated } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import { MalformedReply } from '@coffer/protocol';
import type { FastifyReply } from 'fastify';

const STATUS: Record<string, [number, string]> = {
  unauthenticated: [401, 'Sign in first'],
  forbidden: [403, 'Your role does not allow this'],
  'mfa-required': [403, 'Sign in with your authenticator code to do this'],
  'passkey-required': [403, 'Sign in with your passkey to do this'],
  'enrol-code-required': [
    403,
    'Setting up an authenticator on a confirmed account needs an enrolment code from a key-admin',
  ],
  'enrol-code-invalid': [403, 'The enrolment code is wrong, already used or expired: ask a key-admin for a new one'],
  'no-access': [403, 'You hold no key for this record'],
  'not-found': [404, 'No such record'],
  'bad-request': [400, 'The request is not valid'],
  conflict: [409, 'The request conflicts with the current state'],
  'bad-signature': [422, 'A signature does not verify under the trust root'],
  // issue 16 item 4: a two-person rule applies and the second person has not acted yet.
  'approval-required': [403, 'A second key-admin must approve this first'],
  'audit-unavailable': [503, 'The audit log could not record this, so nothing was returned'],
};

export function sendVaultError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof VaultRefused) {
    const [status, title] = STATUS[err.code] ?? [503, 'The vault could not answer'];
    const known = err.code in STATUS;
    // Details of these refusals are the vault's own fixed sentences; others may carry internals.
    const explain = ['conflict', 'bad-request', 'bad-signature', 'not-found', 'approval-required'].includes(err.code);
    return sendProblem(reply, {
      status,
      type: known ? err.code : 'vault-unavailable',
      title,
      ...(explain && err.detail ? { detail: err.detail } : {}),
    });
  }
  if (err instanceof VaultReplyUnauthenticated) {
    // Not signed for this request by the certified vault key: rewritten, replayed or forged on the
    // bus (or a vault whose reply key is not certified). Nothing of it was read or is passed on.
    return sendProblem(reply, {
      status: 502,
      type: 'vault-reply-unauthenticated',
      title: 'The vault reply is not authenticated',
    });
  }
  if (err instanceof MalformedReply) {
    // Not the vault's contract: a broken vault or someone on the bus. Nothing of it is passed on.
    return sendProblem(reply, { status: 502, type: 'vault-reply-malformed', title: 'The vault sent an invalid reply' });
  }
  if (err instanceof BusUnavailableError) {
    return sendProblem(reply, { status: 503, type: 'vault-unavailable', title: 'The vault is not reachable' });
  }
  throw err;
}

/** 400 naming the password-policy rule that failed (the password itself never appears). */
export function sendWeakPassword(reply: FastifyReply, verdict: { rule: string; detail: string }): FastifyReply {
  return sendProblem(reply, {
    status: 400,
    type: 'weak-password',
    title: 'The password does not meet the policy',
    detail: verdict.detail,
    rule: verdict.rule,
  });
}
