// Issue 14: the vault stores a few fetched batches at once (libs/bus/src/record-consumer.ts). On a
// real nats-server and PostgreSQL: a batch whose transaction is held open and then fails, while
// the batches after it are fetched, stored and acknowledged, loses nothing — its messages stay
// unacknowledged until it is stored, come back, and every record ends up stored once.
import { randomUUID } from 'node:crypto';
import { RecordSealingContext } from '@coffer/crypto';
import { encodeJson, newRecordId, type RecordBatchMessage } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { startVault, type Vault } from '@coffer/vault';
import { insertDataKey } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/http.ts';
import { HOST, type Infra, startInfra, vaultLogger } from './support/stack.ts';

const available = await postgresAvailable();
const MESSAGES = 30;
const RECORDS_PER_MESSAGE = 4;
/** What the vault's first fetch takes (record-consumer.ts, FIRST_FETCH): the held batch. */
const FIRST_FETCH = 16;
const GATE = 914_014;

describe.skipIf(!available)('the vault storing batches at once', () => {
  let infra: Infra;
  let vault: Vault | undefined;
  const ids: string[] = [];
  let poisoned = '';

  beforeAll(async () => {
    infra = await startInfra();
    const vaultBus = await infra.connectBus('vault');
    await vaultBus.ensureRecordStream();
    const ingest = await infra.connectBus('ingest');
    const now = Date.now();
    const { key, bundle } = await insertDataKey(infra.owner, new Date(now - 60_000), new Date(now + 86_400_000));
    for (let i = 0; i < MESSAGES; i++) {
      const context = RecordSealingContext.create(key.publicKey, bundle.id);
      const records = Array.from({ length: RECORDS_PER_MESSAGE }, () => {
        const id = newRecordId();
        ids.push(id);
        return {
          id,
          type: 'secret' as const,
          keyId: bundle.id,
          hint: null,
          submittedAt: new Date().toISOString(),
          contextId: context.contextId,
          sealed: context.seal(id, 'secret', Buffer.from(`value ${id}`)).toString('base64'),
        };
      });
      const message: RecordBatchMessage = {
        v: 3,
        batchId: randomUUID(),
        contexts: [{ id: context.contextId, keyId: bundle.id, enc: context.enc.toString('base64') }],
        records,
      };
      context.destroy();
      await ingest.publishRecord(message.batchId, encodeJson(message));
    }
    poisoned = ids[0] as string; // in the first message, so in the first fetch
    // While test_poison names it, the poisoned record's INSERT waits for the test's advisory lock
    // and then fails (not a data error, so the vault lets the bus redeliver the batch).
    await infra.owner.unsafe(`
      CREATE TABLE test_poison (id uuid PRIMARY KEY);
      CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_poison WHERE id = NEW.id) THEN
          PERFORM pg_advisory_xact_lock(${GATE});
          RAISE EXCEPTION 'poisoned record';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_poison BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION test_poison();`);
    await infra.owner`INSERT INTO test_poison (id) VALUES (${poisoned})`;
  }, 60_000);
  afterAll(async () => {
    await vault?.close();
    await infra?.close();
  }, 30_000);

  const stored = async () =>
    (await infra.owner<{ id: string }[]>`SELECT id::text AS id FROM records`).map((r) => r.id).sort();

  it('stores and acknowledges the batches after a held one; the held one fails, comes back, and nothing is lost or doubled', async () => {
    const gate = await infra.owner.reserve();
    try {
      await gate`SELECT pg_advisory_lock(${GATE})`;
      vault = await startVault({
        sql: infra.runtime,
        bus: await infra.connectBus('vault'),
        log: vaultLogger(infra),
        host: HOST,
        port: 0,
      });
      const held = ids.slice(0, FIRST_FETCH * RECORDS_PER_MESSAGE);
      const others = ids.slice(held.length);
      // Every batch after the held one is committed while it waits in its transaction …
      await waitFor('the batches after the held one stored', async () => {
        const rows = await stored();
        return rows.length === others.length && rows;
      }).then((rows) => expect(rows).toEqual([...others].sort()));
      const [waiting] = await infra.owner<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`;
      expect(waiting?.n, 'the held batch is still in its transaction').toBe(1);
      // … and acknowledged, while none of the held batch's messages is.
      const during = await waitFor('the later batches acknowledged', async () => {
        const s = await infra.streamState();
        return s.pending === 0 && s.ackPending === FIRST_FETCH && s;
      });
      expect(during).toMatchObject({ lastSeq: MESSAGES, pending: 0, ackPending: FIRST_FETCH });

      // The held batch fails; its messages come back and are stored once the poison is gone.
      await gate`SELECT pg_advisory_unlock(${GATE})`;
      const events = infra.captures.get('bus-vault')?.lines ?? [];
      await waitFor('the held batch failing', async () =>
        events.some((line) => line.includes('storing a batch failed') && line.includes('poisoned record')),
      );
      expect(await stored()).toHaveLength(others.length);
      await infra.owner`DELETE FROM test_poison`;
      await waitFor('every record stored', async () => (await stored()).length === ids.length, 30_000);
      expect(await stored()).toEqual([...ids].sort());
      const after = await waitFor('the stream drained', async () => {
        const s = await infra.streamState();
        return s.pending === 0 && s.ackPending === 0 && s;
      });
      expect(after.lastSeq).toBe(MESSAGES);
    } finally {
      await gate`SELECT pg_advisory_unlock_all()`.catch(() => undefined);
      gate.release();
    }
  }, 90_000);
});
