/**
 * The vault process: configuration, database, bus, then the vault. It never runs migrations
 * (`pnpm coffer migrate`, as the owner role, does) and never holds a private key.
 */

import { readFileSync } from 'node:fs';
import { busTls, connectService, natsSettings, stopOnSignals } from '@coffer/bus';
import {
  asBoolean,
  asPort,
  asPositiveInt,
  asString,
  asUrl,
  loadOrRefuse,
  loadTls,
  orRefuse,
  setting,
  tlsSettings,
} from '@coffer/config';
import pino from 'pino';
import postgres from 'postgres';
import { startVault } from './app.ts';
import { databaseSsl } from './db/tls.ts';

const log = pino({ name: 'vault' });
const days = (type: string) =>
  setting<number | null>(`COFFER_RETENTION_DAYS_${type.toUpperCase()}`, `days to keep a ${type}`, asPositiveInt, null);

const config = loadOrRefuse('vault', {
  databaseUrl: setting('DATABASE_URL', 'PostgreSQL URL of the coffer_vault role', asUrl(['postgres:', 'postgresql:'])),
  ...databaseTlsSettings(),
  ...natsSettings('vault'),
  replicas: setting('COFFER_STREAM_REPLICAS', 'JetStream replicas of the records stream', asPositiveInt, 1),
  requireMfa: setting('COFFER_REQUIRE_MFA', 'reveal and export only from sessions opened with TOTP', asBoolean, true),
  host: setting('HOST', 'address of the health endpoints', asString, '127.0.0.1'),
  port: setting('PORT', 'port of the health endpoints', asPort, 8082),
  // Outside the database, on this host: the checkpoint signing key and the signed checkpoints.
  checkpointDir: setting<string | null>(
    'COFFER_AUDIT_CHECKPOINT_DIR',
    'directory for the audit checkpoint signing key and checkpoints (unset: no checkpoints)',
    asString,
    null,
  ),
  checkpointSeconds: setting('COFFER_AUDIT_CHECKPOINT_SECONDS', 'seconds between audit checkpoints', asPositiveInt, 60),
  // issue 16: decoys (the key stays in this process) and the two-person rules, each off unless set.
  decoyKeyFile: setting<string | null>(
    'COFFER_DECOY_KEY_FILE',
    'file with the decoy tag key, 64 hex digits (unset: no decoys)',
    asString,
    null,
  ),
  exportApprovalAbove: setting<number | null>(
    'COFFER_EXPORT_APPROVAL_ABOVE',
    'an export of more records than this needs a second key-admin (unset: off)',
    asPositiveInt,
    null,
  ),
  approvalMinutes: setting('COFFER_APPROVAL_MINUTES', 'minutes an approved export stays usable', asPositiveInt, 15),
  recoveryDelayMinutes: setting<number | null>(
    'COFFER_RECOVERY_DELAY_MINUTES',
    'a key-admin made by break-glass recovery gets keys only after this many minutes (unset: at once)',
    asPositiveInt,
    null,
  ),
  confirmCosign: setting(
    'COFFER_CONFIRM_KEY_ADMIN_COSIGN',
    'confirming a key-admin needs a second key-admin to compare the fingerprint',
    asBoolean,
    false,
  ),
  // No default: unset keeps that type forever.
  retentionPan: days('pan'),
  retentionSsn: days('ssn'),
  retentionSecret: days('secret'),
});

const decoyKey = orRefuse('vault', () => {
  if (!config.decoyKeyFile) return undefined;
  const hex = readFileSync(config.decoyKeyFile, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error('COFFER_DECOY_KEY_FILE must hold 64 hex digits');
  return Buffer.from(hex, 'hex');
});
const tls = orRefuse('vault', () => ({
  bus: busTls(config),
  database: databaseSsl(
    config.databaseUrl,
    loadTls('DATABASE_SSL', { cert: config.databaseSslCert, key: config.databaseSslKey, ca: config.databaseSslCa }),
  ),
}));
const sql = postgres(config.databaseUrl, {
  max: 10,
  onnotice: () => {},
  ...(tls.database ? { ssl: tls.database } : {}),
});
const bus = await connectService(config, 'vault', {
  log: (event) => log.info(event),
  replicas: config.replicas,
  tls: tls.bus,
});
const retention = { pan: config.retentionPan, ssn: config.retentionSsn, secret: config.retentionSecret };
const vault = await startVault({
  sql,
  bus,
  log,
  host: config.host,
  port: config.port,
  retention,
  requireMfa: config.requireMfa,
  ...(decoyKey ? { decoyKey } : {}),
  twoPerson: {
    ...(config.exportApprovalAbove !== null ? { exportApprovalAbove: config.exportApprovalAbove } : {}),
    approvalMinutes: config.approvalMinutes,
    confirmKeyAdminCosign: config.confirmCosign,
    ...(config.recoveryDelayMinutes !== null ? { recoveryDelayMinutes: config.recoveryDelayMinutes } : {}),
  },
  ...(config.checkpointDir
    ? { auditCheckpoints: { dir: config.checkpointDir, intervalMs: config.checkpointSeconds * 1000 } }
    : {}),
});
log.info({ url: vault.url, retentionDays: retention, requireMfa: config.requireMfa }, 'vault started');

stopOnSignals(bus, log, async () => {
  await vault.close();
  await sql.end({ timeout: 5 });
});

/** DATABASE_SSL_*: the vault's client certificate for PostgreSQL and the CA of the server's. */
function databaseTlsSettings() {
  const tls = tlsSettings('DATABASE_SSL', 'the vault presents to PostgreSQL');
  return { databaseSslCert: tls.cert, databaseSslKey: tls.key, databaseSslCa: tls.ca };
}
