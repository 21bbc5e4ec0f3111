/**
 * The vault, assembled from its parts: the record consumer, `keys.current`, the admin API and the
 * health endpoints. main.ts gives it configuration; tests and `pnpm dev` give it the same.
 */
import type { Bus } from '@coffer/bus';
import type { AlertMessage } from '@coffer/protocol';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { isInitialised } from './admin/bootstrap.ts';
import type { TwoPersonRules } from './admin/export-approvals.ts';
import { closeInterruptedExports } from './admin/export-binding.ts';
import { adminHandlers } from './admin/handlers.ts';
import type { PasskeySettings } from './admin/passkey-challenges.ts';
import { ONE_TRANSACTION_OPS, oneTransaction, policyGate } from './admin/policy.ts';
import { ReplySigner } from './admin/reply-signer.ts';
import { adminRouter } from './admin/router.ts';
import { AuditCheckpointer, type CheckpointOutcome } from './audit-checkpoints.ts';
import { NatsAuditSink } from './audit-stream/nats-sink.ts';
import { type AuditSink, AuditStreamer } from './audit-stream/streamer.ts';
import { type SyslogOptions, SyslogSink } from './audit-stream/syslog.ts';
import { CurrentKey } from './current-key.ts';
import { Decoys } from './decoys.ts';
import { healthServer } from './health.ts';
import { startJanitor } from './janitor.ts';
import { type VaultMetrics, vaultMetrics } from './metrics.ts';
import { type Retention, storeRecordBatch } from './store-records.ts';

export interface VaultOptions {
  readonly sql: postgres.Sql;
  readonly bus: Bus;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  readonly batchSize?: number;
  /** Record batches stored at once, each its own transaction (COFFER_VAULT_STORE_CONCURRENCY). */
  readonly storeConcurrency?: number;
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
  /** The portal's origin and RP ID for passkeys (COFFER_PASSKEY_ORIGIN); unset: no passkeys. */
  readonly passkeys?: PasskeySettings;
  /** COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS: key-admin operations that need MFA need a passkey session. */
  readonly passkeyForKeyAdmins?: boolean;
  /**
   * The file holding the vault's reply key (COFFER_VAULT_REPLY_KEY_FILE), made at first start.
   * Without one the key lives as long as the process, so its certificate is lost at restart.
   */
  readonly replyKeyFile?: string;
  /**
   * Stream the audit log to a SIEM as it is written (issue 16 item 5): JSON lines on the bus's
   * audit stream (`nats`, COFFER_AUDIT_NATS) and/or RFC 5424 syslog over TLS (COFFER_AUDIT_SYSLOG_*).
   */
  readonly auditStream?: {
    readonly nats?: boolean;
    readonly syslog?: SyslogOptions;
    readonly intervalMs?: number;
    readonly batch?: number;
  };
  /**
   * COFFER_DECOY_KEY_FILE (issue 16, item 3): the key decoy tags are made under, held only by this
   * process. Unset: planting is refused and nothing is a decoy.
   */
  readonly decoyKey?: Buffer;
  /** Issue 16, item 4: the two-person rules, each off by default. */
  readonly twoPerson?: TwoPersonRules;
  /**
   * The minutely janitor (expired sessions, interrupted exports, due recovery holds, purge); default
   * on. Off only for a test that runs those steps itself and counts what each run did: the timer's
   * run could otherwise take a row between the test's setup and its own run.
   */
  readonly janitor?: boolean;
}

export interface Vault {
  readonly url: string;
  readonly currentKey: CurrentKey;
  /** The checkpointer, when auditCheckpoints is set: its public key is what verifiers pin. */
  readonly checkpointer: AuditCheckpointer | undefined;
  /** The reply key's public half (base64url): what `coffer init` certifies. */
  readonly replyKey: string;
  /** Checkpoint the audit head now (what the timer does); undefined without auditCheckpoints. */
  checkpoint(): Promise<CheckpointOutcome | undefined>;
  close(): Promise<void>;
}

export async function startVault(options: VaultOptions): Promise<Vault> {
  const { sql, bus, log } = options;
  const now = options.now ?? (() => new Date());
  const metrics = vaultMetrics();
  const currentKey = new CurrentKey(sql, now);
  const checkpoints = await openCheckpoints(options, now);

  await bus.ensureRecordStream();
  const consumer = bus.consumeRecords(
    async (batch) => {
      const end = metrics.batchSeconds.startTimer();
      const result = await storeRecordBatch(sql, batch, options.retention, now());
      end();
      metrics.stored.inc(result.stored);
      metrics.duplicates.inc(result.duplicates);
      metrics.deadLetters.inc(result.deadLetters);
      if (result.deadLetters > 0) log.warn({ deadLetters: result.deadLetters }, 'messages moved to dead_letters');
    },
    options.batchSize ?? 500,
    options.storeConcurrency,
  );

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
  await closeInterruptedExports(sql, now(), true).catch((err) =>
    log.error({ err: (err as Error).message }, 'closing interrupted exports failed'),
  );
  const signer = await ReplySigner.open(sql, options.replyKeyFile);
  log.info({ replyKey: signer.publicKey, fingerprint: signer.fingerprint }, 'admin replies signed by');
  if (!options.replyKeyFile)
    log.warn('COFFER_VAULT_REPLY_KEY_FILE unset: the reply key and its certificate end with this process');
  serveAdmin(options, { now, metrics, refreshStatus, checkpoints, signer });

  const streamer = startAuditStreamer(options, now, (sink, seq) => {
    if (seq === undefined) metrics.auditStreamFailures.inc({ sink });
    else metrics.auditStreamed.set({ sink }, seq);
  });
  const stopJanitor = startJanitor(options, { now, metrics, refreshStatus });
  checkpoints.run();
  const checkpointTimer = setInterval(checkpoints.run, options.auditCheckpoints?.intervalMs ?? 60_000);
  checkpointTimer.unref();

  await bus.serving(); // a requester must not meet "no responders" once startVault has returned
  const http = healthServer(options, currentKey, metrics);
  const url = await http.listen({ host: options.host, port: options.port });

  return {
    url,
    currentKey,
    checkpointer: checkpoints.checkpointer,
    replyKey: signer.publicKey,
    checkpoint: checkpoints.now,
    async close() {
      stopJanitor();
      clearInterval(checkpointTimer);
      await streamer?.stop();
      // The last head this vault saw, signed before it goes: nothing it appended is left uncovered.
      await checkpoints.now().catch((err) => log.error({ err: (err as Error).message }, 'audit checkpoint failed'));
      await consumer.stop();
      await http.close();
    },
  };
}

interface Checkpoints {
  readonly checkpointer: AuditCheckpointer | undefined;
  /** Checkpoint the audit head now; undefined without a checkpointer. */
  now(): Promise<CheckpointOutcome | undefined>;
  /** The same, in the background: a failure is logged. */
  run(): void;
}

async function openCheckpoints(options: VaultOptions, now: () => Date): Promise<Checkpoints> {
  const { sql, log } = options;
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
  const run = () =>
    void checkpoint().catch((err) => log.error({ err: (err as Error).message }, 'audit checkpoint failed'));
  return { checkpointer, now: checkpoint, run };
}

/** The admin API on `vault.admin.>`: the handlers behind the router's policy gate and reply signer. */
function serveAdmin(
  options: VaultOptions,
  parts: {
    readonly now: () => Date;
    readonly metrics: VaultMetrics;
    readonly refreshStatus: () => Promise<void>;
    readonly checkpoints: Checkpoints;
    readonly signer: ReplySigner;
  },
): void {
  const { sql, bus, log } = options;
  const { now, metrics, checkpoints, signer } = parts;
  const passkeys = options.passkeys && {
    ...options.passkeys,
    requireForKeyAdmins: options.passkeyForKeyAdmins ?? false,
  };
  const decoys = new Decoys(options.decoyKey, { sql, bus, metrics, log, now });
  // issue 16: an alert on the bus (`alerts.<kind>`), never in the way of the request that raised it.
  const alert = (kind: 'recovery', message: Omit<Extract<AlertMessage, { kind: 'recovery' }>, 'v' | 'kind' | 'at'>) => {
    log.warn({ alert: kind, ...message }, `alert: ${kind}`);
    const body = JSON.stringify({ v: 1, kind, at: now().toISOString(), ...message } satisfies AlertMessage);
    void bus
      .publishAlert(kind, new TextEncoder().encode(body))
      .catch((err) => log.error({ err: (err as Error).message }, `alert ${kind} not published`));
  };
  const delayMinutes = options.twoPerson?.recoveryDelayMinutes;
  const handlers = adminHandlers(sql, parts.refreshStatus, checkpoints.checkpointer, signer.publicKey, passkeys, {
    decoys,
    recovery: { ...(delayMinutes ? { delayMs: delayMinutes * 60_000 } : {}), alert },
    ...(options.twoPerson ? { twoPerson: options.twoPerson } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
  });
  bus.serve(
    `${bus.names.admin}.>`,
    adminRouter({
      prefix: bus.names.admin,
      handlers: {
        ...handlers,
        bootstrap: async (req, context) => {
          const result = await handlers.bootstrap(req, context);
          checkpoints.run(); // the org's first events: vouch for them now, not a minute later
          return result;
        },
      },
      gate: policyGate(sql, {
        requireMfa: options.requireMfa ?? false,
        passkeyForKeyAdmins: options.passkeyForKeyAdmins ?? false,
      }),
      oneTransaction: { ops: ONE_TRANSACTION_OPS, run: oneTransaction(sql) }, // issue 14 item 4
      clock: now,
      log: (msg) => log.error(msg),
      signer,
    }),
    'admin',
  );
}

function startAuditStreamer(
  options: VaultOptions,
  now: () => Date,
  observe: (sink: string, seq: number | undefined) => void,
): AuditStreamer | undefined {
  const o = options.auditStream;
  const sinks: AuditSink[] = [];
  if (o?.nats) {
    const publisher = options.bus.auditPublisher?.();
    if (!publisher) throw new Error('audit streaming to NATS needs a NATS bus');
    sinks.push(new NatsAuditSink(publisher));
  }
  if (o?.syslog) sinks.push(new SyslogSink(o.syslog));
  if (sinks.length === 0) return undefined;
  const streamer = new AuditStreamer(options.sql, sinks, {
    now,
    ...(o?.intervalMs ? { intervalMs: o.intervalMs } : {}),
    ...(o?.batch ? { batch: o.batch } : {}),
    log: (msg, fields) => options.log.error(fields, msg),
    observe,
  });
  streamer.start();
  options.log.info({ sinks: sinks.map((s) => s.name) }, 'audit streaming to');
  return streamer;
}
