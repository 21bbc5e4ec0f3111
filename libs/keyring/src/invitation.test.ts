import { PrivateKey } from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { type Holder, wrapOrgKey } from './holder.ts';
import { grantedRole, RoleBindingError, signedInvitation } from './invitation.ts';

const orgKey = PrivateKey.generate('ed25519');
const admin: Holder = { id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', key: PrivateKey.generate('x25519') };
const held = { orgKeyId: 'org-1', orgKey: wrapOrgKey(orgKey, 'org-1', { id: admin.id, key: admin.key.publicKey }) };
const invited = {
  userId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6c',
  email: 'new@example.com',
  role: 'viewer' as const,
  expiresAt: '2026-12-03T00:00:00.000Z',
};

describe('role binding', () => {
  const { invitation, signature } = signedInvitation(admin, held, invited);
  const user = {
    id: invited.userId,
    email: invited.email,
    role: 'viewer',
    invitation: { statement: invitation, signature },
  };

  it('grants the role the key-admin signed, checked under the trust root', () => {
    expect(grantedRole(orgKey.publicKey, user)).toBe('viewer');
  });

  it('refuses a role the vault reports differently, another user, another key, or no invitation', () => {
    const refused = (u: Parameters<typeof grantedRole>[1], root = orgKey.publicKey) => {
      expect(() => grantedRole(root, u)).toThrow(RoleBindingError);
    };
    refused({ ...user, role: 'key-admin' });
    refused({ ...user, id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a7d' });
    refused({ ...user, email: 'other@example.com' });
    refused(user, PrivateKey.generate('ed25519').publicKey);
    refused({ ...user, invitation: { statement: { ...invitation, role: 'key-admin' }, signature } });
    refused({ ...user, invitation: null });
  });
});
