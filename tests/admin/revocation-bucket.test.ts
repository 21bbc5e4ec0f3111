/**
 * The REVOCATIONS bucket the admin replicas share (issue 15 item 2, review fix) against a hostile
 * bus operator: what it puts there is believed only as far as the org key's signature goes, and a
 * bucket it deleted lowers nothing a replica remembers in its own state file (the floor).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { natsSharedCell, revocationBucket, type SharedCell } from '@coffer/bus';
import { connect, jetstreamManager, natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-compass-7342-quietly';
const encoder = new TextEncoder();

describe.skipIf(!available)('the shared revocation bucket under a hostile bus operator', () => {
  let stack: AdminStack;
  let admin: Signed;
  let dir: string;
  let operator: Awaited<ReturnType<typeof connect>>;
  let bucket: SharedCell;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'coffer-bucket-'));
    stack = await startAdminStack({ revocationStateFile: path.join(dir, 'a.json') });
    admin = await signIn(stack.app);
    // The bus operator: a connection of its own to the same server (the test server has no users).
    operator = await connect({ servers: stack.natsUrl });
    bucket = natsSharedCell(operator, revocationBucket(stack.names), 1);
  });
  afterAll(async () => {
    await operator?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sharedCounter = async (): Promise<number | undefined> => {
    const stored = await bucket.get();
    if (!stored) return undefined;
    return (JSON.parse(new TextDecoder().decode(stored.value)) as { signed: { list: { counter: number } } }).signed.list
      .counter;
  };

  it('a forged list with a high counter in the bucket is ignored: keys are still made', async () => {
    const forged = { v: 1, signed: { list: { v: 1, counter: 99, issuedAt: new Date().toISOString(), entries: [] } } };
    const value = encoder.encode(JSON.stringify({ ...forged, signed: { ...forged.signed, signature: 'AAAA' } }));
    expect(await bucket.put(value, (await bucket.get())?.revision ?? 0)).toBe(true);
    const made = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode).toBe(201);
  });

  it('a deleted bucket plus a database rollback: the replica that saw the list refuses and shares it again', async () => {
    const { id } = await enrolUser(stack.app, admin, 'revoked@example.com', 'viewer', STRONG);
    const [row] = await stack.db.owner`SELECT * FROM users WHERE id = ${id}`;
    if (!row) throw new Error('no row');
    expect((await call(stack.app, admin, 'DELETE', `/api/users/${id}`)).statusCode).toBe(204);
    expect(await sharedCounter(), 'the revocation replaced the forged value').toBe(1);

    // Both attackers: the bucket gone, the old row back, the list rolled back (to none).
    const jsm = await jetstreamManager(operator);
    await jsm.streams.delete(`KV_${revocationBucket(stack.names)}`);
    await stack.db.owner`UPDATE users SET status = 'active', public_key = ${row.public_key},
      certificate_signature = ${row.certificate_signature}, wrapped_private_key = ${row.wrapped_private_key},
      password_verifier = ${row.password_verifier} WHERE id = ${id}`;
    await stack.db.owner`DELETE FROM revocation_lists`;

    const made = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    const copies = await stack.db.owner`SELECT key_id FROM wrapped_keys WHERE recipient_id = ${id}
      AND key_id IN (SELECT id FROM data_keys WHERE not_before > now())`;
    expect({ status: made.statusCode, copiesForRevoked: copies.length }).toEqual({ status: 409, copiesForRevoked: 0 });
    expect(await sharedCounter(), 'the replica wrote what it remembers back').toBe(1);
  });
});
