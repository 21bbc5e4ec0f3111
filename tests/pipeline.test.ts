// Issue #3, item 6: the whole pipeline on real PostgreSQL and a real nats-server with the shipped
// permissions — 1,000 mixed records through ingest's HTTP API stored exactly once, and afterwards
// no plaintext form of any of them in the database, the JetStream store or any service's output.
import { randomBytes, randomUUID } from 'node:crypto';
import { postgresAvailable } from '@coffer/testkit';
import { describe, expect, it } from 'vitest';
import { type Accepted, pool, submit, waitFor } from './support/http.ts';
import { databaseHaystacks, describeHits, directoryHaystacks, findLeaks, textHaystack } from './support/leaks.ts';
import { currentKeyId, stackPerBlock } from './support/stack.ts';
import { mixedSamples, type Sample } from './support/values.ts';

const available = await postgresAvailable();
const COUNT = 1_000;
const CONCURRENCY = 32;
/** Records submitted while the vault's consumer is stopped, so they sit in the stream. */
const HELD = 100;

describe.skipIf(!available)('1,000 records end to end', () => {
  const t = stackPerBlock();
  const samples = mixedSamples(COUNT);
  // Filled by the first test, searched for by the second: the leak search needs real traffic.
  const accepted: (Accepted | undefined)[] = [];

  it('stores every accepted record exactly once, with its type, hint and key id', async () => {
    const { planes, infra } = t.stack;
    const keyId = currentKeyId(planes.ceremony ?? expect.fail('startPlanes did not run the ceremony'));
    const refused: string[] = [];
    await pool(samples, CONCURRENCY, async (sample, i) => {
      const answer = await submit(planes.ingestUrl, sample);
      if (answer.status === 202) accepted[i] = answer.body as unknown as Accepted;
      else refused.push(`${sample.type} #${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
    });
    expect(refused).toEqual([]);
    expect(samples.map((_, i) => ({ ...accepted[i], id: typeof accepted[i]?.id }))).toEqual(
      samples.map((s: Sample) => ({ id: 'string', type: s.type, hint: s.hint, keyId })),
    );
    const ids = accepted.map((a) => a?.id as string);
    expect(new Set(ids).size).toBe(COUNT);

    const countRecords = async () =>
      (await infra.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM records`)[0]?.n ?? 0;
    await waitFor('1,000 rows in records', async () => (await countRecords()) >= COUNT);

    const rows = await infra.owner<{ id: string; type: string; hint: string | null; data_key_id: string }[]>`
      SELECT id::text AS id, type, hint, data_key_id FROM records ORDER BY id`;
    const expected = samples
      .map((s, i) => ({ id: ids[i] as string, type: s.type, hint: s.hint, data_key_id: keyId }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    expect(rows.map((r) => ({ ...r }))).toEqual(expected);
    const [dead] = await infra.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters`;
    expect(dead?.n).toBe(0);
  }, 120_000); // 1,000 submissions: seconds alone, much longer with every other test file running

  it('leaves no plaintext in any table, in the JetStream store or in any output', async () => {
    const { infra, buses } = t.stack;
    expect(accepted.filter(Boolean)).toHaveLength(COUNT); // needs the records of the first test

    // Positive controls, one per kind of haystack, so a search that silently reads nothing fails.
    const canary = (what: string) => `leak-canary-${what}-${randomBytes(8).toString('hex')}`;
    const canaries = { log: canary('log'), text: canary('text'), bytea: canary('bytea'), bus: canary('bus') };
    t.stack.vaultLog.info({ note: canaries.log }, 'positive control');
    t.stack.ingestLog.info({ note: canaries.log }, 'positive control');
    await infra.owner`CREATE TABLE leak_canary (note text, blob bytea)`;
    await infra.owner`INSERT INTO leak_canary VALUES (${canaries.text}, ${Buffer.from(canaries.bytea, 'utf8')})`;
    // Through the real bus: a message the vault cannot decode lands whole in dead_letters (bytea),
    // proving the search reaches what came over NATS into the database.
    await buses.ingest.publishRecord(randomUUID(), Buffer.from(JSON.stringify({ canary: canaries.bus })));
    await waitFor('the bus canary in dead_letters', async () => {
      const [row] = await infra.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters`;
      return (row?.n ?? 0) > 0;
    });

    // JetStream drops a message's bytes once the vault acks it (work-queue retention), so the store
    // is searched while it holds records: stop the vault's consumer, submit more, and wait for
    // their ids — plain text in every message — to show up in the store files.
    await t.stack.planes.vault.close();
    const held = mixedSamples(HELD);
    const heldIds: string[] = [];
    await pool(held, CONCURRENCY, async (sample) => {
      const answer = await submit(t.stack.planes.ingestUrl, sample);
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      heldIds.push((answer.body as unknown as Accepted).id);
    });
    const store = await waitFor('the held records in the JetStream store files', async () => {
      const files = await directoryHaystacks(infra.nats.storeDir);
      return new Set(findLeaks(heldIds, files).map((h) => h.needle)).size === HELD && files;
    });

    const database = await databaseHaystacks(infra.owner);
    const outputs = [
      ...[...infra.captures].map(([name, c]) => textHaystack(`output of ${name}`, c.lines)),
      textHaystack('nats-server log', await infra.natsLog()),
    ];
    expect(database.map((h) => h.where)).toEqual(
      expect.arrayContaining([
        'table records',
        'table records.sealed (hex)',
        'table dead_letters',
        'table leak_canary',
      ]),
    );
    const haystacks = [...database, ...store, ...outputs];

    const controls = findLeaks(Object.values(canaries), haystacks);
    const found = (needle: string, where: RegExp, form: 'utf8' | 'hex') =>
      controls.some((h) => h.needle === needle && h.form === form && where.test(h.where));
    expect(found(canaries.log, /^output of vault$/, 'utf8'), 'log canary in vault output').toBe(true);
    expect(found(canaries.log, /^output of ingest$/, 'utf8'), 'log canary in ingest output').toBe(true);
    expect(found(canaries.text, /^table leak_canary$/, 'utf8'), 'text canary in its table').toBe(true);
    expect(found(canaries.bytea, /^table leak_canary/, 'hex'), 'bytea canary, as hex').toBe(true);
    expect(found(canaries.bus, /^table dead_letters/, 'hex'), 'bus canary in dead_letters, as hex').toBe(true);

    const needles = [...samples, ...held].flatMap((s) => s.needles);
    const hits = findLeaks(needles, haystacks);
    expect(hits, describeHits(hits)).toEqual([]);
    console.info(
      `leak search: ${needles.length} needles over ${haystacks.length} haystacks ` +
        `(${haystacks.reduce((n, h) => n + h.bytes.length, 0)} bytes, ${store.length} store files)`,
    );
  }, 60_000);
});
