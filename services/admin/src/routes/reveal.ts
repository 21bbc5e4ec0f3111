/**
 * POST /api/records/:id/reveal — the vault audits, then hands over the sealed record and this
 * user's wrapped data key; the value is opened here, in memory, and answered with no-store. A
 * record that fails to open (tampered, moved, wrong key) is a named error, audited, never output.
 */
import { randomUUID } from 'node:crypto';
import { BusUnavailableError, callVault } from '@coffer/bus';
import { CryptoError, type PrivateKey, type RecipientKind } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { Reason, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { openRecord, recordSuite, unwrapDataKey, unwrapUserKey } from '../unwrap.ts';
import { valueMatchesType } from '../value-type.ts';
import type { AdminDeps } from './deps.ts';

const Body = Type.Object({ reason: Reason }, { additionalProperties: false });
// issue 9 item 11: record ids are UUIDs; anything else (a NUL, say) is a 400 here.
const Params = Type.Object({ id: Uuid });

/** Retries, in the background, for a bus that is briefly away: at once, after 2 s and after 10 s. */
async function reportUndelivered(send: () => Promise<unknown>): Promise<void> {
  for (const wait of [0, 2_000, 10_000]) {
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    try {
      await send();
      return;
    } catch {
      // The bus or the vault is still away; try again, then give up (the reveal stays `success`).
    }
  }
}

export const revealRoute: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const options = { schema: { body: Body, params: Params }, config: { action: 'record.reveal', csrf: true } };
  app.post('/api/records/:id/reveal', options, async (req, reply) => {
    const { session } = req;
    const { id } = req.params;
    const origin = originOf(req);
    const requestId = randomUUID();
    const sealed = await callVault(deps.bus, 'records.reveal', {
      v: 1,
      session: session.hash,
      recordId: id,
      reason: req.body.reason,
      origin,
      requestId,
    }).catch((err: unknown) => {
      // issue 9 item 4d: the vault may have released it (and audited that) without the answer
      // reaching us. Say so in the audit, so it does not read as if the person received it.
      if (err instanceof BusUnavailableError) {
        void reportUndelivered(() =>
          callVault(deps.bus, 'records.reveal-undelivered', {
            v: 1,
            session: session.hash,
            recordId: id,
            requestId,
            error: 'timeout',
            origin,
          }),
        );
      }
      throw err;
    });
    let plaintext: Buffer | undefined;
    let userKey: PrivateKey<RecipientKind> | undefined;
    let dataKey: PrivateKey<RecipientKind> | undefined;
    try {
      userKey = unwrapUserKey(session.token, sealed.session);
      dataKey = unwrapDataKey(
        userKey,
        sealed.session.userId,
        sealed.record.dataKeyId,
        sealed.wrappedDataKey,
        recordSuite(sealed.record),
      );
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
      // Nothing unwrapped outlives the request: an X-Wing key's seed and expanded key are wiped here
      // (an X25519 KeyObject cannot be wiped from JavaScript; it is freed with the object).
      dataKey?.destroy();
      userKey?.destroy();
    }
  });
};
