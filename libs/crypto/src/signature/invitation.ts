/**
 * A signed invitation (issue 9, item 1): when a key-admin invites someone, the admin plane signs
 * with the org key (unwrapped through that key-admin's session) who is invited and for which role.
 * At confirmation the admin plane checks it against the pinned trust root and certifies and wraps
 * only for that role: the role stored in the database, or carried in a bus reply, is not trusted.
 *
 * Format v1 (docs/crypto.md): Ed25519 by the org key over
 *   lengthPrefixed("coffer/invitation/v1", inviteId, userId, email, role, expiresAt)
 * expiresAt is ISO 8601 UTC with milliseconds (as toISOString): the deadline for acceptance.
 */
import { lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import type { PrivateKey, PublicKey } from '../keys/keys.ts';
import { signedStatement } from './signed-statement.ts';

export const INVITATION_LABEL = 'coffer/invitation/v1';
const INVITED_ROLES = ['viewer', 'key-admin', 'auditor'] as const;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface Invitation {
  readonly v: 1;
  readonly inviteId: string;
  readonly userId: string;
  readonly email: string;
  readonly role: (typeof INVITED_ROLES)[number];
  readonly expiresAt: string;
}

function canonicalInvitation(value: unknown): { read: Invitation; bytes: Buffer } {
  const bad = (why: string): never => {
    throw new CryptoError('InvalidBundle', `invitation: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'email,expiresAt,inviteId,role,userId,v') return bad('unexpected fields');
  const { v, inviteId, userId, email, role, expiresAt } = o;
  if (v !== 1) return bad('unknown version');
  for (const [name, s] of Object.entries({ inviteId, userId, email })) {
    if (typeof s !== 'string' || s.length < 1 || s.length > 254) bad(`${name} must be 1–254 characters`);
  }
  if (!INVITED_ROLES.includes(role as Invitation['role'])) bad('unknown role');
  if (typeof expiresAt !== 'string' || !ISO_UTC.test(expiresAt)) bad('expiresAt must be ISO 8601 UTC');
  const invitation = { v: 1, inviteId, userId, email, role, expiresAt } as Invitation;
  const bytes = lengthPrefixed(
    INVITATION_LABEL,
    invitation.inviteId,
    invitation.userId,
    invitation.email,
    invitation.role,
    invitation.expiresAt,
  );
  return { read: invitation, bytes };
}

const invitations = signedStatement(canonicalInvitation);

export function signInvitation(orgKey: PrivateKey<'ed25519'>, invitation: Invitation): string {
  return invitations.sign(orgKey, invitation);
}

/** The invitation, read once, if `signature` verifies under the trust root; else BadSignature. */
export function verifyInvitation(trustRoot: PublicKey<'ed25519'>, invitation: unknown, signature: string): Invitation {
  return invitations.verify(trustRoot, invitation, signature);
}
