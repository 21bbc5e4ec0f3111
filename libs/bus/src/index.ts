export { AUDIT_SEQ_HEADER, type AuditPublisher } from './audit-publisher.ts';
export {
  type Bus,
  BusUnavailableError,
  type Plane,
  type RecordConsumer,
  type RecordDelivery,
  type RequestHandler,
  type SharedCell,
  type SharedCellEntry,
} from './bus.ts';
export { type IdempotencyNames, idempotencyNames, idempotencyStreamConfig } from './idempotency-stream.ts';
export { InProcessBus } from './in-process-bus.ts';
export { connectNatsBus, type NatsBusOptions } from './nats-bus.ts';
export { type ReplyTrust, trustVaultReplies, VaultReplyUnauthenticated } from './reply-trust.ts';
export { busTls, connectService, type NatsConfig, natsSettings, stopOnSignals } from './service.ts';
export { natsSharedCell, revocationBucket } from './shared-cell.ts';
export { callVault, callVaultAttached, orgStatus, VaultRefused } from './vault-client.ts';
