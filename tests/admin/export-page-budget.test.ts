/**
 * An export page stays under the bus's 1 MiB message limit whatever its records' contexts: at a
 * low ingest rate each record has a context of its own, and under X-Wing each context's enc is
 * 1,120 bytes, so 1,000 such records hold 1.1 MB of encs before any sealed byte. Before the page
 * budget counted every byte (it counted sealed bytes only), such an export failed.
 */
import { createHash } from 'node:crypto';
import { callVault, callVaultAttached } from '@coffer/bus';
import { PublicKey, RecordSealingContext, sessionTokenHash } from '@coffer/crypto';
import { decodeExportPage, newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const RECORDS = 1000;
/** NATS's default max_payload, which the test servers and the shipped configuration keep. */
const MAX_PAYLOAD = 1024 * 1024;

describe.skipIf(!available)('export pages of records with a context each (X-Wing)', () => {
  let stack: AdminStack;
  let auth: Awaited<ReturnType<typeof signIn>>;
  const values = new Map<string, string>();

  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'xwing' });
    const [key] = await stack.db.owner<{ id: string; public_key: string }[]>`
      SELECT id, public_key FROM data_keys WHERE not_before <= now() AND now() < not_after`;
    if (!key) throw new Error('no current data key');
    const publicKey = PublicKey.fromBase64url('xwing', key.public_key);
    const contexts = [];
    const encs = [];
    const records = [];
    // As the vault stores ingest's records (migration 012): both context tables, the enc's digest.
    for (let i = 0; i < RECORDS; i++) {
      const context = RecordSealingContext.create(publicKey, key.id);
      const id = newRecordId();
      const value = `sparse ${i}`;
      const sha = createHash('sha256').update(context.enc).digest();
      contexts.push({ id: context.contextId, data_key_id: key.id, enc: context.enc });
      encs.push({ context_id: context.contextId, enc_sha256: sha, data_key_id: key.id, enc: context.enc });
      records.push({
        id,
        type: 'secret',
        data_key_id: key.id,
        context_id: context.contextId,
        context_enc_sha256: sha,
        sealed: context.seal(id, 'secret', Buffer.from(value)),
        hint: null,
        submitted_at: new Date(),
      });
      context.destroy();
      values.set(id, value);
    }
    const db = stack.db.owner;
    await db`INSERT INTO record_contexts ${db(contexts)}`;
    await db`INSERT INTO record_context_encs ${db(encs)}`;
    await db`INSERT INTO records ${db(records)}`;
    auth = await signIn(stack.app);
  }, 180_000);
  afterAll(() => stack?.close());

  it('cuts each page within the bus limit, counting every context enc, and exports every record', async () => {
    const session = sessionTokenHash(auth.token);
    const begun = await callVault(stack.adminBus, 'export.begin', {
      v: 1,
      session,
      reason: 'page budget',
      origin: '127.0.0.1 test',
    });
    const bus = stack.adminBus;
    const request = bus.request.bind(bus);
    const wire: number[] = [];
    bus.request = async (subject, data, timeoutMs) => {
      const bytes = await request(subject, data, timeoutMs);
      wire.push(bytes.length);
      return bytes;
    };
    const seen: string[] = [];
    try {
      for (let after: string | undefined; ; ) {
        const page = { v: 1 as const, session, exportId: begun.exportId, limit: 4096, ...(after ? { after } : {}) };
        const { result, attachment } = await callVaultAttached(stack.adminBus, 'export.block', page);
        const records = decodeExportPage(attachment);
        expect(records.length).toBeGreaterThan(0);
        seen.push(...records.map((r) => r.id));
        after = records.at(-1)?.id;
        if (result.done) break;
      }
    } finally {
      bus.request = request;
    }
    expect(seen).toHaveLength(RECORDS);
    expect(new Set(seen)).toEqual(new Set(values.keys()));
    expect(wire.length).toBeGreaterThan(1);
    for (const bytes of wire) expect(bytes).toBeLessThan(MAX_PAYLOAD);
    await callVault(stack.adminBus, 'export.finish', {
      v: 1,
      session,
      exportId: begun.exportId,
      count: seen.length,
      outcome: 'success',
      origin: '127.0.0.1 test',
    });

    // The admin plane's CSV over the same records: every value, and the trailer.
    const res = await stack.app.inject({
      method: 'POST',
      url: '/api/exports',
      headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
      payload: { reason: 'page budget, CSV' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body.endsWith(`# coffer export complete: ${RECORDS} records\r\n`)).toBe(true);
    for (const [id, value] of values) expect(res.body).toContain(`${id},secret,${value},`);
  }, 180_000);
});
