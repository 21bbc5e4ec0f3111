/**
 * Review of issue 15 item 3: after a revocation's rotation, docs/operations.md says to re-seal the
 * superseded key. But ingest keeps sealing to that key for up to ~13 s (its refresh interval plus
 * one bus request), and such records may wait longer in the stream (a lagging or restarting
 * vault). Re-sealing at once destroys the key; a record sealed to it that reaches the vault
 * afterwards is dead-lettered under a key nobody holds any more: an accepted submission lost.
 */
import { connectNatsBus } from '@coffer/bus';
import { PublicKey, recordBinding, seal } from '@coffer/crypto';
import { encodeJson, newRecordId } from '@coffer/protocol';
import { natsForTests } from '@coffer/testkit';
import { describe, expect, it } from 'vitest';
import { call } from '../support/admin-stack.ts';
import { signedInStack, stackAvailable } from '../support/signed-in-stack.ts';

describe.skipIf(!stackAvailable)('re-sealing a key that may still receive records', () => {
  const t = signedInStack();

  it('loses no record sealed to the superseded key in ingest’s refresh interval', async () => {
    await t.stack.addRecord('ssn', '123-45-6789');
    const old = t.stack.ceremony.request.dataKeys[0]?.bundle;
    if (!old) throw new Error('no ceremony key');
    expect((await call(t.stack.app, t.admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);

    // The key-admin re-seals the superseded key right away, as the operations guide suggests.
    const begun = await call(t.stack.app, t.admin, 'POST', '/api/reseal', { keyIds: [old.id] });
    if (begun.statusCode === 201) {
      for (let i = 0; i < 10; i++) {
        const step = await call(t.stack.app, t.admin, 'POST', `/api/reseal/${begun.json().runId}/step`, { limit: 500 });
        expect(step.statusCode).toBe(200);
        if (step.json().done) break;
      }
    }

    // Meanwhile ingest (still on the superseded key for a few seconds) accepted a submission.
    const ingest = await connectNatsBus({
      url: (await natsForTests()) as string,
      names: t.stack.adminBus.names,
      service: 'ingest',
    });
    const id = newRecordId();
    const sealed = seal(
      PublicKey.fromBase64url('x25519', old.publicKey),
      Buffer.from('987-65-4321'),
      recordBinding(id, 'ssn', old.id),
    );
    await ingest.publishRecord(
      id,
      encodeJson({
        v: 1,
        id,
        type: 'ssn',
        keyId: old.id,
        hint: '4321',
        submittedAt: t.stack.now().toISOString(),
        sealed: sealed.toString('base64'),
      }),
    );
    await ingest.close();

    let where = '';
    for (let i = 0; i < 300 && !where; i++) {
      const [stored] = await t.stack.db.owner`SELECT 1 FROM records WHERE id = ${id}`;
      const [dead] = await t.stack.db.owner`SELECT reason FROM dead_letters WHERE msg_id = ${id}`;
      where = stored ? 'stored' : dead ? `dead-lettered: ${dead.reason}` : '';
      if (!where) await new Promise((r) => setTimeout(r, 100));
    }
    const [key] = await t.stack.db.owner`SELECT 1 FROM data_keys WHERE id = ${old.id}`;
    expect({ where, keyKept: Boolean(key) }).toEqual({ where: 'stored', keyKept: true });
  });
});
