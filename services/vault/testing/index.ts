/**
 * `@coffer/vault/testing`: for tests and benchmarks, never for production code (the boundary check
 * refuses it there). A migrated database and a signed data key, and the vault's parts that tests
 * and bench/reveal.bench.ts drive one by one.
 */

export { exportHandlers } from '../src/admin/exports.ts';
export { adminHandlers } from '../src/admin/handlers.ts';
export { authenticate, ONE_TRANSACTION_OPS, oneTransaction, policyGate } from '../src/admin/policy.ts';
export { auditOrRefuse, recordHandlers } from '../src/admin/records.ts';
export { releaseRecoveryHolds } from '../src/admin/recovery-holds.ts';
export { ReplySigner } from '../src/admin/reply-signer.ts';
export { adminDispatcher, adminRouter } from '../src/admin/router.ts';
export { appendAudit, canonicalJson } from '../src/audit.ts';
export { MIGRATIONS_DIR } from '../src/db/migrate.ts';
export { databaseSsl } from '../src/db/tls.ts';
export { storeRecordBatch } from '../src/store-records.ts';
export { rewriteAndRechain, storedRowHash } from './audit-rows.ts';
export { createVaultDatabase, insertDataKey, testOrgKey, type VaultDatabase } from './vault-database.ts';
