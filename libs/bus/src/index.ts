export { AUDIT_SEQ_HEADER, type AuditPublisher } from './audit-publisher.ts';
// bus.ts is the Bus interface and its types, all of them public.
export * from './bus.ts';
export { type IdempotencyNames, idempotencyNames, idempotencyStreamConfig } from './idempotency-stream.ts';
export { InProcessBus } from './in-process-bus.ts';
export { connectNatsBus, type NatsBusOptions } from './nats-bus.ts';
export { type ReplyTrust, trustVaultReplies, VaultReplyUnauthenticated } from './reply-trust.ts';
export { busTls, connectService, loadServingPlane, type NatsConfig, natsSettings, stopOnSignals } from './service.ts';
export { natsSharedCell, revocationBucket } from './shared-cell.ts';
export { callVault, callVaultAttached, orgStatus, VaultRefused } from './vault-client.ts';
