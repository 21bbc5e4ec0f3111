export {
  checkAdminResult,
  contractEntry,
  decodeAdminRequest,
  decodeNoncedAdminRequest,
  MalformedReply,
  MalformedRequest,
  UnknownOperation,
} from './admin-codec.ts';
export {
  ADMIN_OPERATIONS,
  AdminContract,
  type AdminOperation,
  type AdminPolicy,
  type AdminRequest,
  type AdminResult,
  type ContractEntry,
  isAdminOperation,
  type Policy,
} from './admin-contract.ts';
export {
  AdminReply,
  BootstrapRequest,
  OrgConfigJson,
  REPLY_NONCE,
  REPLY_NONCE_PATTERN,
  SignedAdminReply,
} from './admin-messages.ts';
export { AlertMessage, DecoyAlertV1, RecoveryAlertV1 } from './alerts.ts';
export { type BusNames, busNames, DUPLICATE_WINDOW_MS } from './bus-names.ts';
export { KeysMaterial } from './contract/keys.ts';
export { CredentialId } from './contract/passkeys.ts';
export { SealedForUser } from './contract/records.ts';
export { RecoveryMaterial } from './contract/recovery.ts';
export { SessionKeyMaterial, SignedRevocations } from './contract/rows.ts';
export { OrgStatus, SigninLookup } from './contract/signin.ts';
export { ConfirmMaterial, InviteMade } from './contract/users.ts';
export {
  decodeExportPage,
  EXPORT_PAGE_VERSION,
  type ExportPageInput,
  type ExportPageRecord,
  encodeExportPage,
  recordsWithin,
} from './export-page.ts';
export {
  checkJson,
  DataKeyBundleJson,
  decodeJson,
  encodeJson,
  hintFits,
  KeyBundleReply,
  MAX_RECORDS_PER_BATCH,
  ProtocolError,
  parseJson,
  RecordBatchMessage,
  RecordMessage,
  RecordMessageV1,
  RecordMessageV2,
  SuiteName,
} from './messages.ts';
export { newRecordId, recordIdAt } from './record-id.ts';
export {
  ATTACHMENT,
  attachmentOf,
  decodeReplyFrame,
  encodeReplyFrame,
  type FrameSignature,
  isReplyFrame,
  REPLY_FRAME_VERSION,
  type ReplyFrame,
  replyFrameBody,
  withAttachment,
} from './reply-frame.ts';
export { checkValue, RECORD_TYPES, type RecordType, type ValueCheck } from './values.ts';
export * from './vocabulary.ts';
