/**
 * TOTP enrolment for the signed-in user:
 * - POST /api/me/totp {enrolCode?} → {secret, otpauthUrl}: a new secret, offered as pending. It is
 *   sealed to the user's own key (unwrapped from the session for this request) before it reaches
 *   the vault. A confirmed account without TOTP must send the one-time `enrolCode` a key-admin
 *   issued (issue 9 item 3); before confirmation the password's session is enough.
 * - POST /api/users/:id/enrol-code {} → {code, expiresAt}: a key-admin issues that code (once;
 *   user-enrol-code.ts).
 * - POST /api/me/totp/verify {code} → 204 when the code matches the pending secret, which then
 *   becomes the user's TOTP (sign-in asks for a code from then on); 400 when it does not.
 * Both outcomes of a verification are audited as `totp.enrol`.
 */
import { callVault } from '@coffer/bus';
import { CryptoError } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { TotpCode } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../session.ts';
import { acceptedStep, enrolCodeHash, newTotp, openTotpSecret, sealTotpSecret } from '../totp.ts';
import { unwrapUserKey } from '../unwrap.ts';
import type { AdminDeps } from './deps.ts';
import { enrolCodeRoute } from './user-enrol-code.ts';

const EnrolCode = Type.String({ minLength: 20, maxLength: 40, pattern: '^[A-Za-z0-9 -]+$' });
const Begin = Type.Object({ enrolCode: Type.Optional(EnrolCode) }, { additionalProperties: false });
const Verify = Type.Object({ code: TotpCode }, { additionalProperties: false });

export const totpRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const config = { action: 'totp.enrol', csrf: true };
  // issue 9 item 11: no body at all is fine; a body, if sent, must be `{}` (checked by hand before
  // the guards, as a body schema would refuse a missing body).
  const emptyOrNoBody = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.body !== undefined && !Value.Check(Begin, req.body)) {
      return sendProblem(reply, {
        status: 400,
        type: 'bad-request',
        title: 'The request is not valid',
        detail: 'the body must be empty, {} or {enrolCode}',
      });
    }
  };
  app.post('/api/me/totp', { preValidation: emptyOrNoBody, config }, async (req, reply) => {
    const { session } = req;
    const material = await callVault(deps.bus, 'totp.material', { v: 1, session: session.hash });
    const userKey = unwrapUserKey(session.token, material.session);
    const { totp, secret } = newTotp(material.email);
    const sealed = sealTotpSecret(userKey.publicKey, material.session.userId, secret);
    const body = req.body as { enrolCode?: string } | undefined;
    await callVault(deps.bus, 'totp.pending', {
      v: 1,
      session: session.hash,
      sealed: sealed.toString('base64'),
      ...(body?.enrolCode === undefined ? {} : { enrolCode: enrolCodeHash(body.enrolCode) }),
      origin: originOf(req),
    });
    return reply.header('cache-control', 'no-store').send({ secret: secret.base32, otpauthUrl: totp.toString() });
  });

  app.post('/api/me/totp/verify', { schema: { body: Verify }, config }, async (req, reply) => {
    const { session } = req;
    const { code } = req.body;
    const origin = originOf(req);
    const fail = (error: string) =>
      callVault(deps.bus, 'totp.enrol-failed', { v: 1, session: session.hash, error, origin });
    const material = await callVault(deps.bus, 'totp.material', { v: 1, session: session.hash });
    if (!material.pending) {
      await fail('none-pending');
      return sendProblem(reply, {
        status: 409,
        type: 'conflict',
        title: 'No TOTP secret is pending: request one with POST /api/me/totp first',
      });
    }
    const userKey = unwrapUserKey(session.token, material.session);
    let step: number | undefined;
    try {
      step = acceptedStep(openTotpSecret(userKey, material.session.userId, material.pending), code, deps.now());
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      // The pending blob is not this user's (tampered or moved): refuse it, never use it.
      await fail(err.code);
      return sendProblem(reply, {
        status: 409,
        type: 'conflict',
        title: 'The pending TOTP secret cannot be opened: request a new one',
      });
    }
    if (step === undefined) {
      await fail('wrong-code');
      return sendProblem(reply, { status: 400, type: 'totp-mismatch', title: 'The code does not match' });
    }
    await callVault(deps.bus, 'totp.enrol', { v: 1, session: session.hash, pending: material.pending, step, origin });
    return reply.code(204).send();
  });

  enrolCodeRoute(app, deps);
};
