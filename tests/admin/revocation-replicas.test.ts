/**
 * Review of issue 15 item 2 with the deployment docs/operations.md describes: several admin
 * replicas, each with its own COFFER_REVOCATION_STATE_FILE. A database writer who rolls the signed
 * revocation list back (and restores the revoked person's row) right after a revocation made on
 * one replica must not get keys wrapped to that person by another replica, which never saw the
 * newer list.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { adminLogger, buildAdmin } from '@coffer/admin';
import { PublicKey } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-compass-7342-quietly';

describe.skipIf(!available)('a revocation-list rollback against two admin replicas', () => {
  let stack: AdminStack;
  let replicaB: FastifyInstance;
  let admin: Signed;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'coffer-replicas-'));
    stack = await startAdminStack({ revocationStateFile: path.join(dir, 'a.json') });
    replicaB = await buildAdmin({
      bus: stack.adminBus,
      trustRoot: PublicKey.fromBase64url('ed25519', stack.ceremony.trustRoot),
      log: adminLogger(new Writable({ write: (_c, _e, done) => done() })),
      now: stack.now,
      revocationStateFile: path.join(dir, 'b.json'),
    });
    admin = await signIn(stack.app);
  });
  afterAll(async () => {
    await replicaB?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('another replica wraps nothing to the revoked person after the list is rolled back', async () => {
    const { id } = await enrolUser(stack.app, admin, 'revoked@example.com', 'viewer', STRONG);
    const [row] = await stack.db.owner`SELECT * FROM users WHERE id = ${id}`;
    if (!row) throw new Error('no row');
    // Replica B works normally before the revocation (it has seen no list yet: none exists).
    expect((await call(replicaB, admin, 'POST', '/api/keys/pregenerate', { count: 1 })).statusCode).toBe(201);
    // The revocation goes through replica A, which remembers list 1 in its own state file.
    expect((await call(stack.app, admin, 'DELETE', `/api/users/${id}`)).statusCode).toBe(204);

    // The database writer: the old row back, the list rolled back (to none).
    await stack.db.owner`UPDATE users SET status = 'active', public_key = ${row.public_key},
      certificate_signature = ${row.certificate_signature}, wrapped_private_key = ${row.wrapped_private_key},
      password_verifier = ${row.password_verifier} WHERE id = ${id}`;
    await stack.db.owner`DELETE FROM revocation_lists`;

    const made = await call(replicaB, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    const copies = await stack.db.owner`SELECT key_id FROM wrapped_keys WHERE recipient_id = ${id}
      AND key_id IN (SELECT id FROM data_keys WHERE not_before > now())`;
    expect({ status: made.statusCode, copiesForRevoked: copies.length }).toEqual({ status: 409, copiesForRevoked: 0 });
  });
});
