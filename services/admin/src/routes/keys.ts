/**
 * GET /api/keys (metadata) and POST /api/keys/pregenerate {count}: a key-admin's session makes
 * the next data keys, signed by the org key and wrapped to every confirmed viewer and key-admin
 * and to the recovery key. Each recipient's certificate is checked against the pinned trust root
 * first: a user row planted in the database, without a certificate the org key made, gets nothing.
 */
import { callVault } from '@coffer/bus';
import {
  dataKeyWrapBinding,
  PrivateKey,
  type PublicKey,
  signDataKeyBundle,
  verifyUserCertificate,
  wrapPrivateKey,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { type KeysMaterial, newRecordId } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { originOf } from '../session.ts';
import { unwrapOrgKey } from '../unwrap.ts';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const Pregenerate = Type.Object({ count: Type.Integer({ minimum: 1, maximum: 16 }) }, { additionalProperties: false });

export const keyRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get('/api/keys', async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'keys.list', { csrf: false });
    if (!session) return reply;
    try {
      return reply
        .header('cache-control', 'no-store')
        .send(await callVault(deps.bus, 'keys.list', { v: 1, session: session.hash }));
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post('/api/keys/pregenerate', { schema: { body: Pregenerate } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'keys.pregenerate', { csrf: true });
    if (!session) return reply;
    const { count } = req.body as { count: number };
    try {
      const m = await callVault<KeysMaterial>(deps.bus, 'keys.material', { v: 1, session: session.hash });
      const { orgKey } = unwrapOrgKey(session.token, m);
      const recipients: { kind: 'user' | 'recovery'; id: string; key: PublicKey<'x25519'> }[] = m.recipients.flatMap(
        (r) => {
          try {
            const cert = verifyUserCertificate(
              deps.trustRoot,
              { id: r.id, role: r.role, publicKey: r.publicKey },
              r.certificateSignature ?? '',
            );
            return [{ kind: 'user' as const, id: r.id, key: cert.key }];
          } catch {
            req.log.warn({ userId: r.id }, 'recipient without a valid certificate: no key wrapped to it');
            return [];
          }
        },
      );
      // The recovery key receives every data key: it must carry the org key's certificate too.
      let recovery: PublicKey<'x25519'>;
      try {
        recovery = verifyUserCertificate(
          deps.trustRoot,
          { id: m.recovery.id, role: 'recovery', publicKey: m.recovery.publicKey },
          m.recovery.certificate ?? '',
        ).key;
      } catch {
        req.log.error({ alert: 'recovery-key' }, 'the recovery key has no valid certificate: no data keys made');
        return sendProblem(reply, {
          status: 409,
          type: 'recovery-key-uncertified',
          title: 'The stored recovery key is not certified by the org key; no data keys were made',
        });
      }
      recipients.push({ kind: 'recovery', id: m.recovery.id, key: recovery });
      const now = deps.now().getTime();
      let start = Math.max(now - (now % 1000), m.lastNotAfter ? Date.parse(m.lastNotAfter) : 0);
      const dataKeys = Array.from({ length: count }, () => {
        const dataKey = PrivateKey.generate('x25519');
        const bundle = {
          id: newRecordId(),
          publicKey: dataKey.publicKey.toBase64url(),
          notBefore: new Date(start).toISOString(),
          notAfter: new Date(start + deps.dataKeyDays * DAY_MS).toISOString(),
        };
        start += deps.dataKeyDays * DAY_MS;
        return {
          bundle,
          signature: signDataKeyBundle(orgKey, bundle),
          copies: recipients.map((r) => ({
            recipientKind: r.kind,
            recipientId: r.id,
            wrapped: wrapPrivateKey(dataKey, r.key, dataKeyWrapBinding(bundle.id, r.id)).toString('base64'),
          })),
        };
      });
      await callVault(deps.bus, 'keys.store', { v: 1, session: session.hash, dataKeys, origin: originOf(req) });
      return reply.code(201).send({
        items: dataKeys.map((k) => ({ ...k.bundle, wrappedCopies: k.copies.length })),
        skippedRecipients: m.recipients.length - (recipients.length - 1),
      });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
