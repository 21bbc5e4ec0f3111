/**
 * @coffer/keyring — key lifecycle, as pure key work shared by the CLI and the admin plane: the
 * bootstrap ceremony, minting data keys, choosing certified recipients, signed invitations (role
 * binding), handing held keys to a new user, a person's key under their password or a passkey, and
 * break-glass recovery. Nothing here talks to the bus or a database; callers pass the vault's
 * material in and send the result back. Callers never wrap or unwrap a key themselves.
 */
export { CeremonyError, type CeremonyInput, type CeremonyOutput, makeKeyAdmin, runCeremony } from './ceremony.ts';
export { type Grant, grantToUser, type HeldKeys } from './confirm.ts';
export { type DataKeyCopy, type Holder, openDataKey, type Recipient, rewrapDataKeys } from './holder.ts';
export { grantedRole, type InvitedRole, RoleBindingError, signedInvitation } from './invitation.ts';
export {
  dataKeyWindows,
  type KeyWindow,
  type MintedDataKey,
  mintDataKeys,
  nextWindowStart,
  windowsCovering,
} from './mint.ts';
export { nextOrgConfig, type SignedOrgConfig } from './org-config.ts';
export {
  type KeysMaterialLike,
  type Pregenerated,
  type PregenerateOptions,
  pregenerateDataKeys,
} from './pregenerate.ts';
export {
  type CertifiedRecipients,
  certifiedRecipients,
  type RecipientCandidates,
  UncertifiedRecoveryKey,
} from './recipients.ts';
export { approveRecoveryRelease, type Recovered, RecoveryRefused, recoverKeyAdmin } from './recover.ts';
export { authoriseResealStore } from './reseal.ts';
export { checkRevocationList, nextRevocationList, RevocationListRefused, type SignedList } from './revocations.ts';
export { orgSuite, type SuiteMaterial, SuiteRefused } from './suite.ts';
export { type EnrolledUserKey, enrolUserKey } from './user-key.ts';
export {
  openPasskeyWrap,
  openPasswordWrap,
  passkeyWrap,
  passwordWrap,
  USER_KEY_KINDS,
  type UserKeyRef,
} from './user-key-wraps.ts';
export { certifyVaultKey, VaultKeyMismatch } from './vault-key.ts';
