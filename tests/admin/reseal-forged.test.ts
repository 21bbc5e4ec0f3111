/**
 * Review of issue 15 item 3: a hostile bus operator sees every live session's hash on the bus
 * and can call the vault as that session (docs/threat-model.md). With `reseal.*` it must not be
 * able to do what no other operation lets it do: overwrite every stored record of an old data key
 * with values of its own choosing and have the vault destroy that key, its recovery copy
 * included, so that the original values are gone for good.
 */
import { callVault } from '@coffer/bus';
import { PublicKey, RecordSealingContext, sessionTokenHash } from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { call } from '../support/admin-stack.ts';
import { signedInStack, stackAvailable } from '../support/signed-in-stack.ts';

describe.skipIf(!stackAvailable)('reseal forged by a hostile bus with a seen session hash', () => {
  const t = signedInStack();

  it('cannot replace the records of an old key with its own values and have the key destroyed', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await t.stack.addRecord('ssn', `123-45-678${i}`));
    const oldId = t.stack.ceremony.request.dataKeys[0]?.bundle.id as string;
    // A revocation or a plain rotation supersedes the ceremony's key; its records stay on it.
    expect((await call(t.stack.app, t.admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    t.stack.advance(11 * 60 * 1000); // past the settle period: the old key may be re-sealed from

    // The bus operator: the session hash crossed the bus in every request the portal made.
    const session = sessionTokenHash(t.admin.token);
    let refused = false;
    try {
      const { runId } = await callVault(t.stack.adminBus, 'reseal.begin', {
        v: 1,
        session,
        keyIds: [oldId],
        origin: 'bus',
      });
      const m = await callVault(t.stack.adminBus, 'reseal.material', { v: 1, session, runId, limit: 500 });
      // The current key's public half is public: anyone can seal values of their choosing to it.
      const toKey = PublicKey.fromBase64url('x25519', (m.toKey.bundle as { publicKey: string }).publicKey);
      const toKeyId = (m.toKey.bundle as { id: string }).id;
      const context = RecordSealingContext.create(toKey, toKeyId);
      const records = m.records.map((r) => ({
        id: r.id,
        sealed: context.seal(r.id, r.type, Buffer.from('000-00-0000')).toString('base64'),
      }));
      await callVault(t.stack.adminBus, 'reseal.store', {
        v: 1,
        session,
        runId,
        toKeyId,
        context: { id: context.contextId, enc: context.enc.toString('base64') },
        records,
        origin: 'bus',
      });
    } catch {
      refused = true;
    }

    // What must hold: the old key and its recovery copy survive, and the records still open to
    // their original values (here: still sealed to the old key, untouched).
    const db = t.stack.db.owner;
    const key = await db`SELECT 1 FROM data_keys WHERE id = ${oldId}`;
    const recovery = await db`SELECT 1 FROM wrapped_keys WHERE key_id = ${oldId} AND recipient_kind = 'recovery'`;
    const moved = await db`SELECT 1 FROM records WHERE id = ANY(${ids}) AND data_key_id <> ${oldId}`;
    expect({ refused, key: key.length, recovery: recovery.length, moved: moved.length }).toEqual({
      refused: true,
      key: 1,
      recovery: 1,
      moved: 0,
    });
  });
});
