/**
 * The vault, assembled from its parts: the record consumer, `keys.current`, the admin API and the
 * health endpoints. main.ts gives it configuration; tests and `pnpm dev` give it the same.
 */
import type { Bus } from '@coffer/bus';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { isInitialised } from './admin/bootstrap.ts';
import { closeInterruptedExports } from './admin/export-binding.ts';
import { adminHandlers } from './admin/handlers.ts';
import { ONE_TRANSACTION_OPS, oneTransaction, policyGate } from './admin/policy.ts';
import { adminRouter } from './admin/router.ts';
import { deleteExpiredSessions } from './admin/sessions.ts';
import { AuditCheckpointer, type CheckpointOutcome } from './audit-checkpoints.ts';
import { CurrentKey } from './current-key.ts';
import { vaultMetrics } from './metrics.ts';
import { purgeExpired } from './purge.ts';
import { type Retention, storeRecordBatch } from './store-records.ts';

export interface VaultOptions {
  readonly sql: postgres.Sql;
  readonly bus: Bus;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly batchSize?: number;
  readonly now?: () => Date;
  /** Days to keep each record type (sets records.expires_at); a type left out is kept forever. */
  readonly retention?: Retention;
  /**
   * COFFER_REQUIRE_MFA: viewers and key-admins reveal, export and manage people and keys only from
   * a session opened with a TOTP code (the `mfa` column of the contract). Default false.
   */
  readonly requireMfa?: boolean;
  /**
   * Sign checkpoints of the audit chain's head into this directory, outside the database
   * (COFFER_AUDIT_CHECKPOINT_DIR), every `intervalMs` (default a minute), at start and at close.
   */
  readonly auditCheckpoints?: { readonly dir: string; readonly intervalMs?: number };
}

export interface Vault {
  readonly url: string;
  readonly currentKey: CurrentKey;
  /** The checkpointer, when auditCheckpoints is set: its public key is what verifiers pin. */
  readonly checkpointer: AuditCheckpointer | undefined;
  /** Checkpoint the audit head now (what the timer does); undefined without auditCheckpoints. */
  checkpoint(): Promise<CheckpointOutcome | undefined>;
  close(): Promise<void>;
}

export async function startVault(options: VaultOptions): Promise<Vault> {
  const { sql, bus, log } = options;
  const now = options.now ?? (() => new Date());
  const metrics = vaultMetrics();
  const currentKey = new CurrentKey(sql, now);
  const checkpointer = options.auditCheckpoints
    ? await AuditCheckpointer.open(options.auditCheckpoints.dir)
    : undefined;
  if (checkpointer) log.info({ checkpointKey: checkpointer.publicKey.toBase64url() }, 'audit checkpoints signed by');
  else log.warn('audit checkpoints off (COFFER_AUDIT_CHECKPOINT_DIR unset): a truncated audit log goes unnoticed');
  const checkpoint = async (): Promise<CheckpointOutcome | undefined> => {
    if (!checkpointer) return undefined;
    const outcome = await checkpointer.checkpoint(sql, now());
    if ('refused' in outcome) {
      log.error({ ...outcome.refused }, 'alert: audit-chain: events no longer extend the last signed checkpoint');
    }
    return outcome;
  };
  const runCheckpoint = () =>
    void checkpoint().catch((err) => log.error({ err: (err as Error).message }, 'audit checkpoint failed'));

  await bus.ensureRecordStream();
  const consumer = bus.consumeRecords(async (batch) => {
    const end = metrics.batchSeconds.startTimer();
    const result = await storeRecordBatch(sql, batch, options.retention, now());
    end();
    metrics.stored.inc(result.stored);
    metrics.duplicates.inc(result.duplicates);
    metrics.deadLetters.inc(result.deadLetters);
    if (result.deadLetters > 0) log.warn({ deadLetters: result.deadLetters }, 'messages moved to dead_letters');
  }, options.batchSize ?? 500);

  bus.serve(bus.names.keysCurrent, () => currentKey.reply(), 'ingest');
  const refreshStatus = async () => {
    const status = await currentKey.check();
    metrics.degraded.set(status.degraded ? 1 : 0);
    if (typeof status.horizonDays === 'number') metrics.horizonDays.set(status.horizonDays);
    if (status.degraded && (await isInitialised(sql)))
      log.warn({ keyId: status.keyId }, `data key degraded: ${status.reason}`);
  };
  await refreshStatus().catch((err) => log.error({ err: (err as Error).message }, 'key status check failed'));
  // issue 9 item 4: an export this vault was serving when it died is closed in the audit now.
  await closeInterruptedExports(sql, now()).catch((err) =>
    log.error({ err: (err as Error).message }, 'closing interrupted exports failed'),
  );
  const handlers = adminHandlers(sql, refreshStatus, checkpointer);
  bus.serve(
    `${bus.names.admin}.>`,
    adminRouter({
      prefix: bus.names.admin,
      handlers: {
        ...handlers,
        bootstrap: async (req, context) => {
          const result = await handlers.bootstrap(req, context);
          runCheckpoint(); // the org's first events: vouch for them now, not a minute later
          return result;
        },
      },
      gate: policyGate(sql, { requireMfa: options.requireMfa ?? false }),
      oneTransaction: { ops: ONE_TRANSACTION_OPS, run: oneTransaction(sql) }, // issue 14 item 4
      clock: now,
      log: (msg) => log.error(msg),
    }),
    'admin',
  );

  const timer = setInterval(() => {
    void refreshStatus().catch(() => {});
    void deleteExpiredSessions(sql, now()).catch(() => {});
    void closeInterruptedExports(sql, now()).catch(() => {}); // issue 9 item 4
    void purgeExpired(sql, now()).then(
      (purged) => {
        metrics.purgedRecords.inc(purged.records);
        metrics.destroyedDataKeys.inc(purged.dataKeys);
      },
      (err) => log.error({ err: (err as Error).message }, 'purge failed'),
    );
  }, 60_000);
  timer.unref();
  runCheckpoint();
  const checkpointTimer = setInterval(runCheckpoint, options.auditCheckpoints?.intervalMs ?? 60_000);
  checkpointTimer.unref();

  const http = Fastify({ logger: false });
  http.get('/healthz', async () => ({ status: 'live' }));
  http.get('/readyz', async (_req, reply) => {
    const database = await sql`SELECT 1`.then(
      () => true,
      () => false,
    );
    const ready = database && bus.isConnected();
    const key = currentKey.status;
    return reply.code(ready ? 200 : 503).send({
      status: !ready ? 'unavailable' : key.degraded ? 'degraded' : 'ready',
      database,
      bus: bus.isConnected(),
      dataKey: key,
    });
  });
  http.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  const url = await http.listen({ host: options.host, port: options.port });

  return {
    url,
    currentKey,
    checkpointer,
    checkpoint,
    async close() {
      clearInterval(timer);
      clearInterval(checkpointTimer);
      // The last head this vault saw, signed before it goes: nothing it appended is left uncovered.
      await checkpoint().catch((err) => log.error({ err: (err as Error).message }, 'audit checkpoint failed'));
      await consumer.stop();
      await http.close();
    },
  };
}
