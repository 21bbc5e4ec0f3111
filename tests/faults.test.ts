// Issue #3, item 6: faults on real PostgreSQL and a real nats-server. NATS down means 503 and
// nothing stored, then recovery with no one's help; NATS stalled past the publish timeout means an
// ambiguous 503 that an Idempotency-Key retry resolves to one record; a data key bundle signed by
// anyone but the org key means 503 and one alert line, never a record sealed to that key.
import { randomUUID } from 'node:crypto';
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import { decodeJson, KeyBundleReply, newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import type { Vault } from '@coffer/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Accepted, type Answer, getStatus, pool, sleep, submit, waitFor } from './support/http.ts';
import {
  bootstrap,
  currentKeyId,
  type Infra,
  stackPerBlock,
  startInfra,
  startIngest,
  startVaultOn,
} from './support/stack.ts';
import { mixedSamples, type Sample } from './support/values.ts';

const available = await postgresAvailable();

const recordIds = async (infra: Infra): Promise<string[]> =>
  (await infra.owner<{ id: string }[]>`SELECT id::text AS id FROM records ORDER BY id`).map((r) => r.id);

/** Submit one sample that must be accepted, and wait until the vault has stored it. */
async function acceptedAndStored(infra: Infra, url: string, sample: Sample): Promise<string> {
  const answer = await submit(url, sample);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  const { id } = answer.body as unknown as Accepted;
  await waitFor(`record ${id} in the table`, async () => (await recordIds(infra)).includes(id), 30_000);
  return id;
}

function expectProblem(answers: readonly Answer[], type: string): void {
  const seen = answers.map((a) => `${a.status} ${a.contentType.split(';')[0]} ${a.body.type}`);
  expect(seen).toEqual(answers.map(() => `503 application/problem+json urn:coffer:problem:${type}`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!available)('NATS stopped', () => {
  const t = stackPerBlock();

  it('answers 503 bus-unavailable while it is down, never 202, and recovers by itself', async () => {
    const { infra, planes } = t.stack;
    const url = planes.ingestUrl;
    const stored: string[] = [];
    for (const sample of mixedSamples(3)) stored.push(await acceptedAndStored(infra, url, sample));

    // SIGTERM the server process itself: the testkit's stop() would delete the store, and its
    // restart() brings the server straight back, leaving no window to submit into.
    const pid = await infra.natsPid();
    process.kill(pid, 'SIGTERM');
    await waitFor('nats-server to exit', async () => !alive(pid), 10_000, 10);

    const down = mixedSamples(60);
    const answers: Answer[] = [];
    // At once, concurrently: the moments right after the connection drops are the likeliest to
    // see a publish buffered by the client and flushed after the reconnect.
    await pool(down.slice(0, 20), 20, async (sample) => {
      answers.push(await submit(url, sample));
    });
    expect(await getStatus(`${url}/readyz`), 'ingest not ready').toBe(503);
    expect(await getStatus(`${planes.vault.url}/readyz`), 'vault not ready').toBe(503);
    // Then spread over a couple of seconds while the client keeps trying to reconnect.
    for (const sample of down.slice(20)) {
      answers.push(await submit(url, sample));
      await sleep(50);
    }
    expectProblem(answers, 'bus-unavailable');

    await infra.nats.restart();
    await waitFor('ingest /readyz 200 after NATS is back', async () => (await getStatus(`${url}/readyz`)) === 200);
    stored.push(await acceptedAndStored(infra, url, mixedSamples(1)[0] as Sample));

    // Nothing refused reached the stream (not even late, from a client-side buffer) or the table.
    const state = await infra.streamState();
    expect(state.lastSeq, 'messages the stream ever took').toBe(stored.length);
    await waitFor('the consumer drained', async () => {
      const s = await infra.streamState();
      return s.pending === 0 && s.ackPending === 0;
    });
    expect(await recordIds(infra)).toEqual([...stored].sort());
    const [dead] = await infra.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters`;
    expect(dead?.n).toBe(0);
    // Its own bounded waits (records stored within 30 s, the server back, the consumer drained
    // within 60 s) add up past a minute on a loaded machine: the timeout is for a hang.
  }, 180_000);

  // A server that stalls (a GC or disk pause, a partition that heals) keeps the connection up:
  // ingest publishes, waits out its 5 s PubAck timeout and answers 503, yet the server stores the
  // record once it resumes. The 503 says so ("may or may not have been stored"); a retry with the
  // same Idempotency-Key must then give one record per submission, never two.
  it('after a stall past the publish timeout, a retry with the Idempotency-Key makes one record', async () => {
    const { infra, planes } = t.stack;
    const url = planes.ingestUrl;
    const before = await recordIds(infra);
    const seqBefore = (await infra.streamState()).lastSeq;
    const samples = mixedSamples(5).map((sample) => ({ sample, key: `stall-${randomUUID()}` }));
    const pid = await infra.natsPid();
    const answers: Answer[] = [];
    process.kill(pid, 'SIGSTOP');
    try {
      await pool(samples, samples.length, async ({ sample, key }) => {
        answers.push(await submit(url, sample, key));
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expectProblem(answers, 'bus-unavailable');
    const seqAfterStall = (await infra.streamState()).lastSeq;

    const retried: string[] = [];
    for (const { sample, key } of samples) {
      const answer = await submit(url, sample, key);
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      retried.push((answer.body as unknown as Accepted).id);
    }
    await waitFor('the retried records in the table', async () => {
      const ids = await recordIds(infra);
      return retried.every((id) => ids.includes(id));
    });
    await waitFor('the consumer drained', async () => {
      const s = await infra.streamState();
      return s.pending === 0 && s.ackPending === 0;
    });
    expect(await recordIds(infra)).toEqual([...before, ...retried].sort());
    // With group commit a retried record rides again in a new batch message (at most one batch for
    // the stalled publishes, one message per sequential retry); the vault keeps one row per record
    // id, which the table check above shows.
    expect((await infra.streamState()).lastSeq - seqBefore).toBeLessThanOrEqual(2 * samples.length);
    console.info(
      `stall: the stream took ${seqAfterStall - seqBefore} messages for the ${samples.length} records answered 503`,
    );
  }, 180_000); // as above: above the sum of its own bounded waits
});

describe.skipIf(!available)('a data key bundle signed by another key', () => {
  let infra: Infra;
  let vault: Vault;
  let ingest: Awaited<ReturnType<typeof startIngest>>;
  let keyId: string;

  beforeAll(async () => {
    infra = await startInfra();
    vault = await startVaultOn(infra);
    const ceremony = await bootstrap(await infra.connectBus('admin'));
    keyId = currentKeyId(ceremony);
    // Built directly: startPlanes does not hand out the DataKeySource, and the test must refresh it.
    ingest = await startIngest(infra, await infra.connectBus('ingest'), ceremony.trustRoot);
  }, 60_000);
  afterAll(async () => {
    await ingest?.close().catch(() => undefined);
    await vault?.close().catch(() => undefined);
    await infra?.close();
  }, 30_000);

  it('answers 503 no-verified-key, stores nothing, and logs exactly one alert', async () => {
    const control = await acceptedAndStored(infra, ingest.url, mixedSamples(1)[0] as Sample);

    // A later window that covers now, so keys.current prefers it over the legitimate key.
    const [legit] = await infra.owner<{ not_before: Date }[]>`SELECT not_before FROM data_keys WHERE id = ${keyId}`;
    const notBefore = new Date();
    expect(notBefore.getTime()).toBeGreaterThan(legit?.not_before.getTime() ?? Number.POSITIVE_INFINITY);
    const bundle = {
      id: newRecordId(),
      publicKey: PrivateKey.generate('x25519').publicKey.toBase64url(),
      notBefore: notBefore.toISOString(),
      notAfter: new Date(notBefore.getTime() + 86_400_000).toISOString(),
    };
    const signature = signDataKeyBundle(PrivateKey.generate('ed25519'), bundle);
    await infra.owner`INSERT INTO data_keys (id, public_key, not_before, not_after, bundle, signature)
      VALUES (${bundle.id}, ${bundle.publicKey}, ${bundle.notBefore}, ${bundle.notAfter},
              ${infra.owner.json(bundle)}, ${signature})`;
    const served = decodeJson(KeyBundleReply, await vault.currentKey.reply());
    expect('bundle' in served && served.bundle.id, 'the vault now serves the forged bundle').toBe(bundle.id);

    // Twice: a bundle that keeps failing must alert once, not once per refresh.
    await ingest.keys.refresh();
    await ingest.keys.refresh();
    const answers: Answer[] = [];
    for (const sample of mixedSamples(6)) answers.push(await submit(ingest.url, sample));
    expectProblem(answers, 'no-verified-key');
    expect(await getStatus(`${ingest.url}/readyz`)).toBe(503);
    expect(await getStatus(`${ingest.url}/v1/keys/current`)).toBe(503);

    const lines = (infra.captures.get('ingest')?.lines ?? []).flatMap((chunk) => chunk.split('\n'));
    const alerts = lines.filter((line) => line.includes('"alert":"data-key"'));
    expect(alerts, 'alert lines').toHaveLength(1);
    expect(JSON.parse(alerts[0] as string)).toMatchObject({ level: 50, alert: 'data-key', keyId: bundle.id });

    await sleep(500); // a record published by mistake would be stored well within this
    expect(await recordIds(infra)).toEqual([control]);
    expect((await infra.streamState()).lastSeq, 'messages the stream ever took').toBe(1);
    const [dead] = await infra.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters`;
    expect(dead?.n).toBe(0);
  });
});
