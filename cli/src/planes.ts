/**
 * Start the planes in this process against a given database and buses — what `pnpm dev` runs,
 * and what cross-service tests and benchmarks start. The same code as the deployed services:
 * startVault and buildIngest, only without separate hosts.
 */
import { adminLogger, buildAdmin } from '@coffer/admin';
import type { Bus } from '@coffer/bus';
import { callVault, orgStatus } from '@coffer/bus';
import { PublicKey } from '@coffer/crypto';
import { buildIngest } from '@coffer/ingest';
import { DEFAULT_DATA_KEY_DAYS } from '@coffer/protocol';
import { startVault, type Vault } from '@coffer/vault';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { type CeremonyInput, type CeremonyOutput, runCeremony } from './ceremony.ts';

export interface PlanesOptions {
  readonly sql: postgres.Sql;
  readonly buses: { readonly vault: Bus; readonly ingest: Bus; readonly admin: Bus };
  readonly logs: { readonly vault: Logger; readonly ingest: Logger; readonly admin?: Logger };
  readonly host: string;
  readonly ingestPort: number;
  readonly vaultPort: number;
  /** Start the admin plane too, on this port. */
  readonly adminPort?: number;
  /** Run the bootstrap ceremony when the vault is not initialised yet. */
  readonly bootstrap?: Omit<CeremonyInput, 'now'>;
  readonly ratePerMinute?: number;
  readonly now?: () => Date;
  /**
   * The org public key (base64url) pinned by configuration. Required once the vault is
   * initialised: the planes never take their trust root from the vault, whose database a writer
   * could change. Only a ceremony run by this very call may supply it instead.
   */
  readonly trustRoot?: string;
  /** Where the vault keeps its audit checkpoint key and checkpoints (outside the database). */
  readonly auditCheckpointDir?: string;
  /** The vault's reply key file (kept across restarts, so its certificate stays valid). */
  readonly replyKeyFile?: string;
  /**
   * Start the admin plane even when the vault's reply key is not certified (an installation made
   * before replies were signed), reading unsigned replies until a key-admin certifies it. `pnpm
   * dev` only; otherwise an uncertified key stops the start.
   */
  readonly allowUncertifiedVaultKey?: boolean;
}

export interface Planes {
  readonly vault: Vault;
  readonly ingestUrl: string;
  readonly adminUrl: string | null;
  readonly trustRoot: string;
  /** Present when this start ran the ceremony. */
  readonly ceremony: CeremonyOutput | undefined;
  close(): Promise<void>;
}

export async function startPlanes(options: PlanesOptions): Promise<Planes> {
  const now = options.now ?? (() => new Date());
  const vault = await startVault({
    sql: options.sql,
    bus: options.buses.vault,
    log: options.logs.vault,
    host: options.host,
    port: options.vaultPort,
    now,
    // Dev mode is not production: no TOTP needed to reveal (the admin plane agrees below).
    requireMfa: false,
    ...(options.auditCheckpointDir ? { auditCheckpoints: { dir: options.auditCheckpointDir } } : {}),
    ...(options.replyKeyFile ? { replyKeyFile: options.replyKeyFile } : {}),
  });
  let ceremony: CeremonyOutput | undefined;
  let status = await orgStatus(options.buses.admin);
  if (!status.initialised) {
    if (!options.bootstrap) throw new Error('the vault is not initialised: run `pnpm coffer init`');
    ceremony = await runCeremony({ ...options.bootstrap, now: now(), vaultReplyKey: status.replyKey });
    await callVault(options.buses.admin, 'bootstrap', ceremony.request);
    status = await orgStatus(options.buses.admin);
  }
  const trustRoot = options.trustRoot ?? ceremony?.trustRoot;
  if (!trustRoot || status.trustRoot !== trustRoot) {
    await vault.close();
    throw new Error(
      trustRoot
        ? 'the vault reports a trust root other than the pinned one: its org row was changed, or this is another installation'
        : 'no pinned trust root: give the org public key (COFFER_TRUST_ROOT, or .coffer/trust-root in dev)',
    );
  }
  const [certified] = await options.sql`SELECT 1 FROM vault_reply_keys WHERE public_key = ${vault.replyKey}`;
  if (!certified && options.adminPort !== undefined && !options.allowUncertifiedVaultKey) {
    await vault.close();
    throw new Error(
      `the vault reply key (fingerprint ${PublicKey.fromBase64url('ed25519', vault.replyKey).fingerprint()}) is not certified: ` +
        'certify it (docs/operations.md, Upgrades) or keep the key file the ceremony certified',
    );
  }
  if (!certified && options.adminPort !== undefined) {
    options.logs.vault.warn(
      { replyKey: vault.replyKey },
      'the vault reply key is not certified: the admin plane reads unsigned replies until a key-admin certifies it (POST /api/keys/vault-reply-key)',
    );
  }
  const { app, keys } = await buildIngest({
    bus: options.buses.ingest,
    trustRoot: PublicKey.fromBase64url('ed25519', trustRoot),
    log: options.logs.ingest,
    ratePerMinute: options.ratePerMinute ?? 600,
    now,
  });
  await keys.start();
  const ingestUrl = await app.listen({ host: options.host, port: options.ingestPort });
  const admin =
    options.adminPort === undefined
      ? undefined
      : await buildAdmin({
          bus: options.buses.admin,
          trustRoot: PublicKey.fromBase64url('ed25519', trustRoot),
          dataKeyDays: options.bootstrap?.dataKeyDays ?? DEFAULT_DATA_KEY_DAYS,
          log: options.logs.admin ?? adminLogger(),
          now,
          acceptUnsignedVaultReplies: !certified,
        });
  const adminUrl = admin ? await admin.listen({ host: options.host, port: options.adminPort ?? 0 }) : null;
  return {
    vault,
    ingestUrl,
    adminUrl,
    trustRoot,
    ceremony,
    async close() {
      await admin?.close();
      await app.close();
      await vault.close();
    },
  };
}
