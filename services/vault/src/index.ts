/** What other packages (the CLI, `pnpm dev`, cross-service tests) may use of the vault. */

export { closeInterruptedExports } from './admin/export-binding.ts';
export { startVault, type Vault, type VaultOptions } from './app.ts';
export { verifyAuditChain } from './audit.ts';
export {
  AuditCheckpointer,
  type AuditLogVerdict,
  type CheckpointVerdict,
  readCheckpointFile,
  verifyAuditLog,
} from './audit-checkpoints.ts';
export { firstBreak, type StreamedEvent } from './audit-stream/event.ts';
export { octetFrame, syslogMessage } from './audit-stream/syslog.ts';
export { checkRoleName, DEFAULT_RUNTIME_ROLE, MIGRATIONS_DIR, migrate } from './db/migrate.ts';
export { decoyTag } from './decoys.ts';
