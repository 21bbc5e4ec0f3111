/**
 * @coffer/client against a running stack (PostgreSQL, nats-server with the shipped permissions,
 * vault, ingest): sealed and plain submissions for every type are stored once, a retry after a
 * lost answer keeps the same Idempotency-Key and stores one record, and a client with another
 * trust root refuses before sending anything.
 */
import { createClient, type SealError } from '@coffer/client';
import { PrivateKey } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/http.ts';
import { type Stack, startStack } from './support/stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('@coffer/client against a running ingest', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  const stored = (id: string) =>
    waitFor(`record ${id}`, async () => {
      const [row] = await stack.infra.runtime`SELECT type, hint, hint_source FROM records WHERE id = ${id}`;
      return row;
    });

  it.each([
    ['pan', '4111 1111 1111 1111', '1111'],
    ['ssn', '123-45-6789', '6789'],
    ['secret', 'a backend secret', null],
  ] as const)('seals a %s in this process and ingest stores it as client-sealed', async (type, value, hint) => {
    const client = createClient({ ingest: stack.planes.ingestUrl, trustRoot: stack.planes.trustRoot });
    const accepted = await client.sealAndSubmit({ type, value });
    expect(accepted).toMatchObject({ type, hint });
    expect(await stored(accepted.id)).toEqual({ type, hint, hint_source: 'client' });
  });

  it('submits plainly too (ingest seals)', async () => {
    const client = createClient({ ingest: stack.planes.ingestUrl });
    const accepted = await client.submit({ type: 'ssn', value: '078-05-1120' });
    expect(await stored(accepted.id)).toEqual({ type: 'ssn', hint: '1120', hint_source: 'ingest' });
  });

  it('retries after a lost answer with the same Idempotency-Key: one record', async () => {
    const keys: string[] = [];
    let dropped = 0;
    // The first answer is lost after ingest took the record, as on a dropped connection.
    const flaky = (async (url: string, init?: RequestInit) => {
      const res = await fetch(url, init);
      if (init?.method === 'POST') {
        keys.push(new Headers(init.headers).get('idempotency-key') as string);
        if (dropped++ === 0) throw new TypeError('fetch failed');
      }
      return res;
    }) as typeof fetch;
    for (const sealed of [true, false]) {
      keys.length = 0;
      dropped = 0;
      const client = createClient({
        ingest: stack.planes.ingestUrl,
        trustRoot: stack.planes.trustRoot,
        fetch: flaky,
        retry: { baseMs: 10 },
      });
      const before = await stack.infra.runtime`SELECT count(*)::int AS n FROM records`;
      const accepted = sealed
        ? await client.sealAndSubmit({ type: 'pan', value: '5555 5555 5555 4444' })
        : await client.submit({ type: 'pan', value: '5555 5555 5555 4444' });
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      await stored(accepted.id);
      await new Promise((r) => setTimeout(r, 500)); // room for a second record, had one been sent
      const after = await stack.infra.runtime`SELECT count(*)::int AS n FROM records`;
      expect(after[0]?.n).toBe((before[0]?.n as number) + 1);
    }
  });

  it('with another trust root: BadSignature, and nothing is posted', async () => {
    const posts: string[] = [];
    const watching = (async (url: string, init?: RequestInit) => {
      if (init?.method === 'POST') posts.push(url);
      return fetch(url, init);
    }) as typeof fetch;
    const client = createClient({
      ingest: stack.planes.ingestUrl,
      trustRoot: PrivateKey.generate('ed25519').publicKey.toBase64url(),
      fetch: watching,
    });
    const err = (await client.sealAndSubmit({ type: 'pan', value: '4111111111111111' }).catch((e) => e)) as SealError;
    expect(err.code).toBe('BadSignature');
    const invalid = (await client.submit({ type: 'pan', value: '4111111111111112' }).catch((e) => e)) as SealError;
    expect(invalid).toMatchObject({ code: 'InvalidValue', rule: 'pan.luhn' });
    expect(posts).toEqual([]);
  });

  it('names a refusal by ingest: Refused with the RFC 9457 problem', async () => {
    const client = createClient({ ingest: stack.planes.ingestUrl, trustRoot: stack.planes.trustRoot });
    const sealed = await client.seal({ type: 'ssn', value: '123-45-6789' });
    const err = (await client.submitSealed({ ...sealed, keyId: 'no-such-key' }).catch((e) => e)) as SealError;
    expect(err).toMatchObject({ code: 'Refused', status: 422 });
    expect(err.problem).toMatchObject({ type: 'urn:coffer:problem:unknown-key' });
  });
});
