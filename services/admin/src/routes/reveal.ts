/**
 * POST /api/records/:id/reveal — the vault audits, then hands over the sealed record and this
 * user's wrapped data key; the value is opened here, in memory, and answered with no-store. A
 * record that fails to open (tampered, moved, wrong key) is a named error, audited, never output.
 */
import { callVault } from '@coffer/bus';
import { CryptoError } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { FREE_TEXT_PATTERN, type SealedForUser } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { originOf } from '../session.ts';
import { UUID_PATTERN } from '../strict-input.ts';
import { openRecord, unwrapDataKey, unwrapUserKey } from '../unwrap.ts';
import { valueMatchesType } from '../value-type.ts';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const Body = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 500, pattern: FREE_TEXT_PATTERN }) },
  { additionalProperties: false },
);
// issue 9 item 11: record ids are UUIDs; anything else (a NUL, say) is a 400 here.
const Params = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });

export const revealRoute: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.post('/api/records/:id/reveal', { schema: { body: Body, params: Params } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'record.reveal', { csrf: true });
    if (!session) return reply;
    const { id } = req.params as { id: string };
    const { reason } = req.body as { reason: string };
    const origin = originOf(req);
    let sealed: SealedForUser;
    try {
      sealed = await callVault<SealedForUser>(deps.bus, 'records.reveal', {
        v: 1,
        session: session.hash,
        recordId: id,
        reason,
        origin,
      });
    } catch (err) {
      return sendVaultError(reply, err);
    }
    let plaintext: Buffer | undefined;
    try {
      const userKey = unwrapUserKey(session.token, sealed.session);
      const dataKey = unwrapDataKey(userKey, sealed.session.userId, sealed.record.dataKeyId, sealed.wrappedDataKey);
      plaintext = openRecord(dataKey, sealed.record);
      const value = plaintext.toString('utf8');
      // A value sealed by the submitter (POST /v1/sealed-records) was never seen by ingest, so this
      // is the first place its type can be checked: the person revealing it is told, not refused.
      const matchesType = valueMatchesType(sealed.record.type, plaintext, value);
      return reply
        .header('cache-control', 'no-store')
        .send({ id: sealed.record.id, type: sealed.record.type, value, matchesType });
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      await callVault(deps.bus, 'records.reveal-failed', {
        v: 1,
        session: session.hash,
        recordId: id,
        error: err.code,
        origin,
      }).catch(() => {});
      return sendProblem(reply, {
        status: 500,
        type: 'record-integrity',
        title: 'The record could not be opened',
        detail: `${err.code}: the record, its key or its binding does not authenticate`,
        error: err.code,
      });
    } finally {
      plaintext?.fill(0);
    }
  });
};
