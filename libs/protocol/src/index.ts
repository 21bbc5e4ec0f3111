export {
  checkAdminResult,
  contractEntry,
  decodeAdminRequest,
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
export { AdminReply, BootstrapRequest } from './admin-messages.ts';
export {
  ConfirmMaterial,
  InviteMade,
  KeysMaterial,
  OrgStatus,
  RecoveryMaterial,
  SealedForUser,
  SessionKeyMaterial,
  SigninLookup,
} from './admin-replies.ts';
export { type BusNames, busNames, DUPLICATE_WINDOW_MS } from './bus-names.ts';
export {
  decodeExportPage,
  EXPORT_PAGE_VERSION,
  type ExportPageInput,
  type ExportPageRecord,
  encodeExportPage,
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
} from './messages.ts';
export { newRecordId } from './record-id.ts';
export { checkValue, RECORD_TYPES, type RecordType, type ValueCheck } from './values.ts';
export * from './vocabulary.ts';
