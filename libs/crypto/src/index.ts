/**
 * @coffer/crypto — the only place Coffer touches cryptography.
 *
 * Public-key seals: `seal(recipient, plaintext, binding)` / `open(identity, blob, binding)`, for
 * any binding but a wrapped key's (those are refused with WrongBinding).
 * Key wrapping: `wrapPrivateKey` / `unwrapPrivateKey` (to a public key), `wrapWithSymmetricKey` /
 * `unwrapWithSymmetricKey` (under a KEK or session key). Everything else derives, signs or splits
 * keys for those two. Every failure is a CryptoError with a named `code`.
 */
export {
  type Binding,
  dataKeyWrapBinding,
  orgKeyWrapBinding,
  recordBinding,
  recoveryChallengeBinding,
  sessionKeyAad,
  totpBinding,
  userKeyAad,
} from './bindings.ts';
export {
  MAX_CONTEXT_SEQUENCE,
  openRecord,
  type ParsedRecordBlob,
  parseRecordBlob,
  RECORD_CONTEXT_BLOB_OVERHEAD,
  RECORD_CONTEXT_BLOB_VERSION,
  RecordOpeningContext,
  RecordSealingContext,
  type RecordToOpen,
} from './blob/record-context.ts';
export {
  open,
  parseSealedBlob,
  SEALED_BLOB_OVERHEAD,
  SEALED_BLOB_OVERHEAD_XWING,
  SEALED_BLOB_VERSION,
  seal,
} from './blob/sealed-blob.ts';
export { CryptoError, CryptoErrorCode, isCryptoError } from './errors.ts';
export {
  COFFER_SUITE,
  KEM_X25519_HKDF_SHA256,
  KEM_XWING,
  recipientKindOf,
  type Suite,
  suiteFor,
  XWING_SUITE,
} from './hpke/hpke.ts';
export { type KeyKind, PrivateKey, PublicKey, type RecipientKind } from './keys/keys.ts';
export { SymmetricKey } from './keys/symmetric-key.ts';
export {
  checkPasswordProof,
  enrollPassword,
  isVerifierStale,
  PASSWORD_PARAMS_CEILING,
  PASSWORD_PARAMS_FLOOR,
  type PasswordParams,
  parseVerifier,
  signPasswordProof,
  unlockWithPassword,
} from './password/password.ts';
export { adminRequestDigest, canonicalJson } from './request/request-digest.ts';
export {
  derivePasskeyKek,
  PASSKEY_PRF_LABEL,
  passkeyKeyAad,
  passkeyPrfSalt,
  passkeySigninChallenge,
} from './session/passkey.ts';
export {
  createSessionToken,
  csrfMatches,
  deriveCsrfToken,
  deriveSessionKey,
  sessionTokenHash,
} from './session/session.ts';
export { combineRecoveryShares, decodeShare, splitRecoveryKey } from './shamir/recovery-shares.ts';
export {
  AUDIT_CHECKPOINT_VERSION,
  type AuditCheckpoint,
  decodeSigningKeyFile,
  encodeSigningKeyFile,
  type SignedAuditCheckpoint,
  signAuditCheckpoint,
  verifyAuditCheckpoint,
} from './signature/audit-checkpoint.ts';
export {
  BUNDLE_SUITES,
  type BundleSuite,
  bundleCovers,
  canonicalDataKeyBundle,
  canonicalUserCertificate,
  type DataKeyBundle,
  ROLES,
  type Role,
  signDataKeyBundle,
  signUserCertificate,
  type UserCertificate,
  verifyDataKeyBundle,
  verifyUserCertificate,
} from './signature/bundles.ts';
export { type Invitation, signInvitation, verifyInvitation } from './signature/invitation.ts';
export { type OrgConfig, orgConfigVersion, signOrgConfig, verifyOrgConfig } from './signature/org-config.ts';
export {
  RECOVERY_RELEASE_LABEL,
  type RecoveryRelease,
  signRecoveryRelease,
  verifyRecoveryRelease,
} from './signature/recovery-release.ts';
export { RESEAL_STORE_LABEL, signResealStore, verifyResealStore } from './signature/reseal-store.ts';
export {
  isRevoked,
  namesRevocation,
  REVOCATION_LIST_MAX_ENTRIES,
  type RevocationEntry,
  type RevocationEntryV1,
  type RevocationList,
  type RevocationListV1,
  type RevocationListV2,
  revocationEntriesOf,
  revocationEntry,
  revokedKeyFingerprint,
  signRevocationList,
  sortRevocationEntries,
  verifyRevocationList,
} from './signature/revocation-list.ts';
export { recipientPublicKey, recipientSuiteOf, userCertificateOf } from './signature/user-certificate.ts';
export {
  certifyVaultReplyKey,
  decodeVaultReplyKeyFile,
  encodeVaultReplyKeyFile,
  signVaultReply,
  signVaultReplyFrame,
  VAULT_REPLY_FRAME_LABEL,
  VAULT_REPLY_KEY_LABEL,
  VAULT_REPLY_LABEL,
  verifyVaultReply,
  verifyVaultReplyFrame,
  verifyVaultReplyKey,
} from './signature/vault-reply.ts';
export { unwrapPrivateKey, unwrapWithSymmetricKey, wrapPrivateKey, wrapWithSymmetricKey } from './wrap/wrap.ts';
