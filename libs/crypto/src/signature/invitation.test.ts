import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import { type Invitation, signInvitation, verifyInvitation } from './invitation.ts';

describe('signed invitation v1', () => {
  const org = PrivateKey.generate('ed25519');
  const invitation: Invitation = {
    v: 1,
    inviteId: 'i-1',
    userId: 'u-1',
    email: 'a@example.com',
    role: 'auditor',
    expiresAt: '2026-01-02T03:04:05.000Z',
  };

  it('verifies as signed, whatever the field order', () => {
    const sig = signInvitation(org, invitation);
    const { v, inviteId, userId, email, role, expiresAt } = invitation;
    const reordered = { expiresAt, role, email, userId, inviteId, v };
    expect(verifyInvitation(org.publicKey, reordered, sig)).toEqual(invitation);
  });

  it('refuses a changed role, user or email, another key, and extra fields', () => {
    const sig = signInvitation(org, invitation);
    expect(() => verifyInvitation(org.publicKey, { ...invitation, role: 'key-admin' }, sig)).toThrow(
      /BadSignature|signature/i,
    );
    expect(() => verifyInvitation(org.publicKey, { ...invitation, userId: 'u-2' }, sig)).toThrow();
    expect(() => verifyInvitation(org.publicKey, { ...invitation, email: 'b@example.com' }, sig)).toThrow();
    expect(() => verifyInvitation(PrivateKey.generate('ed25519').publicKey, invitation, sig)).toThrow();
    expect(() => verifyInvitation(org.publicKey, { ...invitation, extra: 1 }, sig)).toThrow();
    expect(() => verifyInvitation(org.publicKey, { ...invitation, role: 'recovery' }, sig)).toThrow();
  });
});
