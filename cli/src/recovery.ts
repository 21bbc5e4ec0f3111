/**
 * Break-glass recovery over the bus: ask the vault for the recovery key's material, do the key
 * work offline (@coffer/keyring: rebuild the recovery key from k shares, open the challenge, make a
 * new key-admin holding the org key and every data key), and send the result. Nothing is stored
 * here; the vault gets only what it would get at init.
 */
import { type Bus, callVault } from '@coffer/bus';
import { approveRecoveryRelease, recoverKeyAdmin } from '@coffer/keyring';
import type { AdminRequest, RecoveryMaterial } from '@coffer/protocol';

export interface RecoveryInput {
  readonly bus: Bus;
  readonly shares: readonly string[];
  readonly email: string;
  readonly password: string;
  /**
   * The org public key (base64url) as pinned in configuration, never as the vault reports it: a
   * database writer can wrap an org key of their own to the recovery public key (which is public)
   * and put its public half in the org row.
   */
  readonly trustRoot: string;
  /** Enrol the new key-admin's authenticator too (issue 9 item 3): called with it, returns the sealed secret. */
  readonly enrolTotp?: (admin: { id: string; email: string; publicKey: string }) => string;
}

export async function runRecovery(
  input: RecoveryInput,
): Promise<{ userId: string; fingerprint: string; heldUntil?: string }> {
  const material = await callVault(input.bus, 'recovery.begin', { v: 1, origin: 'coffer recover' });
  const recovered = await recoverKeyAdmin(
    material,
    input.shares,
    { email: input.email, password: input.password },
    input.trustRoot,
  );
  const enrol = recovered.enrol;
  const admin = input.enrolTotp ? { ...enrol.admin, totpSealed: input.enrolTotp(enrol.admin) } : enrol.admin;
  const enrolled = await callVault(input.bus, 'recovery.enrol', { ...enrol, admin, origin: 'coffer recover' });
  // issue 16 item 4c: with a break-glass delay the keys reach the new key-admin only then.
  return {
    userId: recovered.userId,
    fingerprint: recovered.fingerprint,
    ...(enrolled.heldUntil ? { heldUntil: enrolled.heldUntil } : {}),
  };
}

/**
 * issue 16 item 4c, the immediate path: a second officer, in a run of their own, presents k shares
 * again and approves with the org key that one held recovery (its user id and the key fingerprint
 * the recovering officer reads out) gets its keys now. The vault audits `recovery.release-now`.
 */
export interface ReleaseInput {
  readonly bus: Bus;
  readonly shares: readonly string[];
  readonly userId: string;
  readonly fingerprint: string;
  readonly trustRoot: string;
}

export async function releaseRecoveryNow(input: ReleaseInput): Promise<void> {
  await callVault(input.bus, 'recovery.release-now', await prepareRecoveryRelease(input));
}

/** The `recovery.release-now` request, unsent; `material` is a `recovery.begin` reply (default: a new one). */
export async function prepareRecoveryRelease(
  input: ReleaseInput,
  material?: RecoveryMaterial,
): Promise<AdminRequest<'recovery.release-now'>> {
  const origin = 'coffer recover --release-now';
  const m = material ?? (await callVault(input.bus, 'recovery.begin', { v: 1, origin }));
  const held = { userId: input.userId, fingerprint: input.fingerprint };
  return { ...(await approveRecoveryRelease(m, input.shares, held, input.trustRoot)), origin };
}
