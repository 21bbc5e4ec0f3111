/**
 * Issue 15, item 2: revocations a database writer cannot roll back unnoticed. The attacker writes
 * the database directly (the owner role): they restore a revoked viewer's older row — key and a
 * certificate that still verifies — and then roll the signed revocation list back to a version
 * without that viewer, or delete it. The admin plane checks the list against the trust root and the
 * counter it keeps in its state file before wrapping anything: the restored row gets nothing, the
 * rolled-back list stops the run (a 409 problem and a denial in the audit log), a restarted admin
 * plane still remembers, and nothing is ever wrapped to the revoked person.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { adminLogger, buildAdmin } from '@coffer/admin';
import { PublicKey, type RevocationEntry, revokedKeyFingerprint } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-compass-7342-quietly';

interface UserRow {
  id: string;
  status: string;
  public_key: string;
  certificate_signature: string;
  wrapped_private_key: Buffer;
  password_verifier: string;
}

describe.skipIf(!available)('revocations survive a database rollback (issue 15, item 2)', () => {
  let stack: AdminStack;
  let admin: Signed;
  let dir: string;
  let stateFile: string;
  let restarted: FastifyInstance | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'coffer-revocations-'));
    stateFile = path.join(dir, 'revocations.json');
    stack = await startAdminStack({ revocationStateFile: stateFile });
    admin = await signIn(stack.app);
  });
  afterAll(async () => {
    await restarted?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const enrolAndRevoke = async (email: string) => {
    const { id } = await enrolUser(stack.app, admin, email, 'viewer', STRONG);
    const [row] = await stack.db.owner<UserRow[]>`SELECT * FROM users WHERE id = ${id}`;
    expect((await call(stack.app, admin, 'DELETE', `/api/users/${id}`)).statusCode).toBe(204);
    return row as UserRow;
  };
  /** The database writer puts the backup's row back: active, its key and its valid certificate. */
  const restore = (row: UserRow, status = row.status) => stack.db.owner`
    UPDATE users SET status = ${status}, public_key = ${row.public_key},
      certificate_signature = ${row.certificate_signature}, wrapped_private_key = ${row.wrapped_private_key},
      password_verifier = ${row.password_verifier}
    WHERE id = ${row.id}`;
  const copiesFor = async (id: string) =>
    (await stack.db.owner`SELECT 1 FROM wrapped_keys WHERE recipient_id = ${id}`).length;
  const remembered = async () => JSON.parse(await readFile(stateFile, 'utf8')).counter as number;

  it('wraps nothing to a revoked viewer whose old row (key and certificate) was restored', async () => {
    const row = await enrolAndRevoke('restored@example.com');
    expect(await remembered()).toBe(1);
    await restore(row);

    const made = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode).toBe(201);
    expect(made.json().skippedRecipients).toBe(1);
    expect(await copiesFor(row.id)).toBe(0);
    expect(stack.logs.join('')).toContain('revoked-row');

    // Flipped to "awaiting confirmation", the restored key is refused at confirmation too.
    await restore(row, 'unconfirmed');
    const confirm = await call(stack.app, admin, 'POST', `/api/users/${row.id}/confirm`, {
      fingerprint: PublicKey.fromBase64url('x25519', row.public_key).fingerprint(),
    });
    expect(confirm.statusCode).toBe(409);
    expect(confirm.json().type).toBe('urn:coffer:problem:revoked');
    expect(await copiesFor(row.id)).toBe(0);
  });

  it('a reset lists only the retired key, rotates, and the re-enrolled person holds keys again', async () => {
    const { id } = await enrolUser(stack.app, admin, 'reset@example.com', 'viewer', STRONG);
    const [row] = await stack.db.owner<UserRow[]>`SELECT * FROM users WHERE id = ${id}`;
    const reset = await call(stack.app, admin, 'POST', `/api/users/${id}/reset`);
    expect(reset.statusCode).toBe(200);
    expect(await remembered()).toBe(2);
    const [list] = await stack.db.owner<{ list: { v: number; entries: RevocationEntry[] } }[]>`
      SELECT list FROM revocation_lists WHERE counter = 2`;
    // Format v2: the retired key is named by its fingerprint, not the key itself.
    expect(list?.list.v).toBe(2);
    expect(list?.list.entries).toContainEqual({
      userId: id,
      fingerprint: revokedKeyFingerprint(row?.public_key ?? ''),
    });
    const [rotation] = await stack.db.owner`SELECT 1 FROM audit_events WHERE action = 'keys.rotate'`;
    expect(rotation).toBeDefined();

    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: reset.json().inviteToken,
      password: `${STRONG}-again`,
    });
    const confirmed = await call(stack.app, admin, 'POST', `/api/users/${id}/confirm`, {
      fingerprint: accepted.json().fingerprint,
    });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().wrappedKeys).toBeGreaterThan(0);
    // The old key, restored, is still refused.
    await restore(row as UserRow, 'unconfirmed');
    const old = await call(stack.app, admin, 'POST', `/api/users/${id}/confirm`, {
      fingerprint: PublicKey.fromBase64url('x25519', (row as UserRow).public_key).fingerprint(),
    });
    expect(old.json().type).toBe('urn:coffer:problem:revoked');
  });

  it('refuses a rolled-back or deleted revocation list loudly, before and after a restart', async () => {
    const row = await enrolAndRevoke('rolled-back@example.com');
    expect(await remembered()).toBe(3);
    await restore(row);
    // The writer rolls the list back to the version that does not name this viewer.
    await stack.db.owner`DELETE FROM revocation_lists WHERE counter = 3`;
    const keysBefore = (await stack.db.owner`SELECT id FROM data_keys`).length;

    const refused = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().type).toBe('urn:coffer:problem:revocation-list-rollback');
    expect(stack.logs.join('')).toContain('"alert":"revocation-list"');
    const [denial] = await stack.db.owner<{ details: { reason: string } }[]>`
      SELECT details FROM audit_events WHERE action = 'keys.pregenerate' AND outcome = 'denied'`;
    expect(denial?.details.reason).toMatch(/older than list 3/);

    // A restarted admin plane reads the counter from its state file and refuses as well.
    restarted = await buildAdmin({
      bus: stack.adminBus,
      trustRoot: PublicKey.fromBase64url('ed25519', stack.ceremony.trustRoot),
      log: adminLogger(new Writable({ write: (_c, _e, done) => done() })),
      now: stack.now,
      revocationStateFile: stateFile,
    });
    const again = await call(restarted, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(again.json().type).toBe('urn:coffer:problem:revocation-list-rollback');
    // So is a list deleted outright, and a revocation or confirmation built on the rolled-back list.
    await stack.db.owner`DELETE FROM revocation_lists`;
    const none = await call(restarted, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(none.json().type).toBe('urn:coffer:problem:revocation-list-rollback');
    const revoke = await call(stack.app, admin, 'DELETE', `/api/users/${row.id}`);
    expect(revoke.statusCode).toBe(409);

    expect((await stack.db.owner`SELECT id FROM data_keys`).length).toBe(keysBefore);
    expect(await copiesFor(row.id)).toBe(0);

    // Were this a legitimate backup restore: a key-admin puts the remembered list back, which
    // revokes the restored row again; then keys are made, and none for the revoked viewer.
    const restored = await call(restarted, admin, 'POST', '/api/revocations/restore');
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ counter: 3 });
    expect(restored.json().applied).toBeGreaterThan(0);
    const [status] = await stack.db.owner<{ status: string }[]>`SELECT status FROM users WHERE id = ${row.id}`;
    expect(status?.status).toBe('revoked');
    expect((await call(restarted, admin, 'POST', '/api/keys/pregenerate', { count: 1 })).statusCode).toBe(201);
    expect(await copiesFor(row.id)).toBe(0);
  });

  it('a restore re-applies a v2 entry to the key with that fingerprint, not to a new key', async () => {
    const { id } = await enrolUser(stack.app, admin, 'reset-restored@example.com', 'viewer', STRONG);
    const [row] = await stack.db.owner<UserRow[]>`SELECT * FROM users WHERE id = ${id}`;
    expect((await call(stack.app, admin, 'POST', `/api/users/${id}/reset`)).statusCode).toBe(200);
    const counter = await remembered();
    // A backup restore brings back the reset person's old row and a list from before the reset.
    await restore(row as UserRow);
    await stack.db.owner`DELETE FROM revocation_lists WHERE counter = ${counter}`;
    const restored = await call(stack.app, admin, 'POST', '/api/revocations/restore');
    expect(restored.statusCode, restored.body).toBe(200);
    // Only this row: the list also names the key the earlier reset retired, but that person has a
    // new key now (and the revoked viewers are revoked already), so nothing else changes.
    expect(restored.json()).toMatchObject({ counter, applied: 1 });
    const [after] = await stack.db.owner<UserRow[]>`SELECT * FROM users WHERE id = ${id}`;
    expect(after?.status).toBe('invited');
    expect(after?.public_key).toBeNull();
  });
});
