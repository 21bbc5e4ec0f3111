/**
 * Two-person rules (issue 16, item 4), switched on: an export above the threshold runs only on a
 * second key-admin's approval (request, approve or deny, then the requester runs it once within
 * the window), and confirming a key-admin needs a second key-admin to compare the fingerprint too.
 */
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

const PW = { b: 'second-admin-quartz-lantern-44', c: 'third-admin-harbour-lantern-55', v: 'viewer-lantern-harbour-66' };

describe.skipIf(!available)('two-person rules', () => {
  let stack: AdminStack;
  let a: Signed;
  let b: Signed;
  let viewer: Signed;

  beforeAll(async () => {
    stack = await startAdminStack({
      twoPerson: { exportApprovalAbove: 2, approvalMinutes: 15, confirmKeyAdminCosign: true },
    });
    for (const pan of ['4111111111111111', '5555555555554444', '4012888888881881']) await stack.addRecord('pan', pan);
    await stack.addRecord('ssn', '123-45-6789');
    a = await signIn(stack.app);
    // The only key-admin confirms the second one alone: there is nobody else yet.
    await enrolUser(stack.app, a, 'b.admin@example.com', 'key-admin', PW.b);
    b = await signIn(stack.app, 'b.admin@example.com', PW.b);
    await enrolUser(stack.app, a, 'viewer.tp@example.com', 'viewer', PW.v);
    viewer = await signIn(stack.app, 'viewer.tp@example.com', PW.v);
  });
  afterAll(() => stack?.close());

  const audited = async (action: string) =>
    stack.db.owner<
      { actor: string; target: string }[]
    >`SELECT actor, target FROM audit_events WHERE action = ${action} AND outcome = 'success'`;

  it('confirming a key-admin needs a second key-admin to compare the fingerprint', async () => {
    const invite = await call(stack.app, a, 'POST', '/api/users', { email: 'c.admin@example.com', role: 'key-admin' });
    const { id, inviteToken } = invite.json();
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: PW.c,
    });
    const { fingerprint } = accepted.json();
    const confirm = () => call(stack.app, a, 'POST', `/api/users/${id}/confirm`, { fingerprint });

    const alone = await confirm();
    expect(alone.statusCode).toBe(403);
    expect(alone.json().type).toBe('urn:coffer:problem:approval-required');
    // The confirmer's own co-signature is not a second person's.
    expect((await call(stack.app, a, 'POST', `/api/users/${id}/cosign`, { fingerprint })).statusCode).toBe(200);
    expect((await confirm()).statusCode).toBe(403);
    // A second key-admin who reads a different fingerprint co-signs nothing.
    const wrong = await call(stack.app, b, 'POST', `/api/users/${id}/cosign`, { fingerprint: 'AAAA BBBB' });
    expect(wrong.statusCode).toBe(409);
    expect((await call(stack.app, viewer, 'POST', `/api/users/${id}/cosign`, { fingerprint })).statusCode).toBe(403);
    expect((await call(stack.app, b, 'POST', `/api/users/${id}/cosign`, { fingerprint })).statusCode).toBe(200);
    expect((await confirm()).statusCode).toBe(200);
    expect((await audited('user.cosign')).map((e) => e.target)).toEqual([id, id]);
  });

  it('an export above the threshold needs an approval; under it, none', async () => {
    const refused = await call(stack.app, viewer, 'POST', '/api/exports', { reason: 'CHG-9 all cards', type: 'pan' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().type).toBe('urn:coffer:problem:approval-required');
    const small = await call(stack.app, viewer, 'POST', '/api/exports', { reason: 'CHG-9 one ssn', type: 'ssn' });
    expect(small.statusCode).toBe(200);
    const ask = await call(stack.app, viewer, 'POST', '/api/export-requests', { reason: 'CHG-9 one ssn', type: 'ssn' });
    expect(ask.statusCode).toBe(200);
    expect(ask.json()).toEqual({ required: false, records: 1, approval: null });
  });

  it('request → approve by a second key-admin → the requester runs it once, within the window', async () => {
    const ask = await call(stack.app, viewer, 'POST', '/api/export-requests', { reason: 'CHG-10 cards', type: 'pan' });
    expect(ask.statusCode).toBe(201);
    const approval = ask.json().approval;
    expect(approval).toMatchObject({ status: 'pending', records: 3, requesterEmail: 'viewer.tp@example.com' });
    // A viewer may not decide, and sees only their own requests.
    const self = await call(stack.app, viewer, 'POST', `/api/export-requests/${approval.id}/approve`);
    expect(self.statusCode).toBe(403);
    const pending = (await call(stack.app, b, 'GET', '/api/export-requests')).json().items;
    expect(pending.map((p: { id: string }) => p.id)).toContain(approval.id);

    // Running it before the approval, or with another filter, is refused.
    const early = { reason: 'CHG-10 cards', type: 'pan', approvalId: approval.id };
    expect((await call(stack.app, viewer, 'POST', '/api/exports', early)).statusCode).toBe(403);
    const approved = await call(stack.app, a, 'POST', `/api/export-requests/${approval.id}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved' });
    const again = await call(stack.app, b, 'POST', `/api/export-requests/${approval.id}/deny`);
    expect(again.statusCode).toBe(409);
    const other = { reason: 'CHG-10 cards', approvalId: approval.id };
    expect((await call(stack.app, viewer, 'POST', '/api/exports', other)).statusCode).toBe(403);

    const run = await call(stack.app, viewer, 'POST', '/api/exports', early);
    expect(run.statusCode).toBe(200);
    // The header, three rows and the trailer line a complete export ends with (issue 9 item 4a).
    const lines = run.body.trim().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toBe('# coffer export complete: 3 records');
    expect((await call(stack.app, viewer, 'POST', '/api/exports', early)).statusCode).toBe(403);
    const mine = (await call(stack.app, viewer, 'GET', '/api/export-requests')).json().items;
    expect(mine.find((p: { id: string }) => p.id === approval.id)?.status).toBe('used');
    expect(await audited('export.request')).toHaveLength(1);
    expect((await audited('export.approve'))[0]?.target).toBe(approval.id);
  });

  it('a requester never approves their own; a denial or an expired approval runs nothing', async () => {
    const own = await call(stack.app, a, 'POST', '/api/export-requests', { reason: 'CHG-11 cards', type: 'pan' });
    const ownId = own.json().approval.id;
    const selfApprove = await call(stack.app, a, 'POST', `/api/export-requests/${ownId}/approve`);
    expect(selfApprove.statusCode).toBe(403);
    expect((await call(stack.app, b, 'POST', `/api/export-requests/${ownId}/deny`)).json().status).toBe('denied');
    const denied = { reason: 'CHG-11 cards', type: 'pan', approvalId: ownId };
    expect((await call(stack.app, a, 'POST', '/api/exports', denied)).statusCode).toBe(403);

    const ask = await call(stack.app, viewer, 'POST', '/api/export-requests', { reason: 'CHG-12 cards', type: 'pan' });
    const id = ask.json().approval.id;
    expect((await call(stack.app, b, 'POST', `/api/export-requests/${id}/approve`)).statusCode).toBe(200);
    stack.advance(16 * 60_000);
    viewer = await signIn(stack.app, 'viewer.tp@example.com', PW.v);
    const late = { reason: 'CHG-12 cards', type: 'pan', approvalId: id };
    expect((await call(stack.app, viewer, 'POST', '/api/exports', late)).statusCode).toBe(403);
    const list = (await call(stack.app, viewer, 'GET', '/api/export-requests')).json().items;
    expect(list.find((p: { id: string }) => p.id === id)?.status).toBe('expired');
  });

  // issue 16 item 3, on this stack because it runs without COFFER_DECOY_KEY_FILE.
  it('a vault without a decoy key refuses to plant decoys, and stores nothing', async () => {
    a = await signIn(stack.app); // the clock moved past the idle timeout above
    const res = await call(stack.app, a, 'POST', '/api/decoys', { type: 'pan', count: 2 });
    expect(res.statusCode).toBe(409);
    const [n] = await stack.db.owner`SELECT count(*)::int AS n FROM decoy_tags`;
    expect(n?.n).toBe(0);
  });
});
