export {
  AdminApi,
  type AdminOperation,
  type AdminRequest,
  type ConfirmMaterial,
  FREE_TEXT_PATTERN,
  type InviteMade,
  type KeysMaterial,
  type RecoveryMaterial,
  type SealedForUser,
  type SessionKeyMaterial,
  type SigninLookup,
} from './admin-api.ts';
export { AdminReply, BootstrapRequest } from './admin-messages.ts';
export { type BusNames, busNames, DUPLICATE_WINDOW_MS } from './bus-names.ts';
export { ConsoleApi, type ConsoleOperation } from './console-api.ts';
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
