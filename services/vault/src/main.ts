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
  // Each batch holds one of the pool's 10 connections while it stores: leave some for the rest.
  storeConcurrency: setting(
    'COFFER_VAULT_STORE_CONCURRENCY',
    'record batches stored at once (at most 6)',
    (raw) => {
      const n = asPositiveInt(raw);
      if (n > 6) throw new Error('at most 6');
      return n;
    },
    4,
  ),
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
  replyKeyFile: setting<string | null>(
    'COFFER_VAULT_REPLY_KEY_FILE',
    'file of the key signing admin replies, made at first start (unset: a key for this process only)',
    asString,
    null,
  ),
  checkpointSeconds: setting('COFFER_AUDIT_CHECKPOINT_SECONDS', 'seconds between audit checkpoints', asPositiveInt, 60),
  // The portal's origin as the browser sees it: passkeys are checked against it (unset: none).
  passkeyOrigin: setting<string | null>(
    'COFFER_PASSKEY_ORIGIN',
    "the admin portal's origin, for passkeys (unset: no passkeys)",
    (raw) => new URL(asUrl(['https:', 'http:'])(raw)).origin,
    null,
  ),
  passkeyForKeyAdmins: setting(
    'COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS',
    'key-admin operations that need MFA need a session opened with a passkey',
    asBoolean,
    false,
  ),
  passkeyRpId: setting<string | null>(
    'COFFER_PASSKEY_RP_ID',
    'WebAuthn RP ID (default: the origin host)',
    asString,
    null,
  ),
  ...auditStreamSettings(),
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
  storeConcurrency: config.storeConcurrency,
  requireMfa: config.requireMfa,
  passkeyForKeyAdmins: config.passkeyForKeyAdmins,
  ...(config.passkeyOrigin
    ? {
        passkeys: {
          origin: config.passkeyOrigin,
          rpId: config.passkeyRpId ?? new URL(config.passkeyOrigin).hostname,
        },
      }
    : {}),
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
  ...(config.replyKeyFile ? { replyKeyFile: config.replyKeyFile } : {}),
  auditStream: orRefuse('vault', () => auditStream(config)),
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

/** Audit streaming to a SIEM (issue 16 item 5; docs/operations.md, "Audit streaming"). */
function auditStreamSettings() {
  const file = (name: string, what: string) => setting(name, what, asString, '');
  return {
    auditNats: setting('COFFER_AUDIT_NATS', 'stream the audit log to the AUDIT stream on the bus', asBoolean, false),
    auditSyslog: file('COFFER_AUDIT_SYSLOG', 'host:port of an RFC 5425 syslog-over-TLS receiver (unset: none)'),
    auditSyslogCa: file('COFFER_AUDIT_SYSLOG_CA', "PEM file of the CA of the receiver's certificate"),
    auditSyslogServername: file('COFFER_AUDIT_SYSLOG_SERVERNAME', "name in the receiver's certificate"),
    auditSyslogCert: file('COFFER_AUDIT_SYSLOG_CERT', 'PEM client certificate for the receiver (optional)'),
    auditSyslogKey: file('COFFER_AUDIT_SYSLOG_KEY', 'PEM key of that certificate'),
    auditSyslogHostname: file('COFFER_AUDIT_SYSLOG_HOSTNAME', 'HOSTNAME field of the messages'),
    auditSyslogSdId: file('COFFER_AUDIT_SYSLOG_SDID', 'SD-ID of the structured data (name@enterprise-number)'),
  };
}

function auditStream(c: typeof config) {
  const syslog = c.auditSyslog ? syslogOptions(c) : undefined;
  return { nats: c.auditNats, ...(syslog ? { syslog } : {}) };
}

function syslogOptions(c: typeof config) {
  const match = /^(.+):(\d{1,5})$/.exec(c.auditSyslog);
  if (!match) throw new Error('COFFER_AUDIT_SYSLOG: expected host:port');
  if (!c.auditSyslogCa) throw new Error('COFFER_AUDIT_SYSLOG_CA: the receiver is always verified; name its CA');
  if (Boolean(c.auditSyslogCert) !== Boolean(c.auditSyslogKey))
    throw new Error('COFFER_AUDIT_SYSLOG_CERT and COFFER_AUDIT_SYSLOG_KEY must be set together');
  return {
    host: match[1] as string,
    port: Number(match[2]),
    ca: readFileSync(c.auditSyslogCa, 'utf8'),
    ...(c.auditSyslogServername ? { servername: c.auditSyslogServername } : {}),
    ...(c.auditSyslogCert
      ? { cert: readFileSync(c.auditSyslogCert, 'utf8'), key: readFileSync(c.auditSyslogKey, 'utf8') }
      : {}),
    ...(c.auditSyslogHostname ? { hostname: c.auditSyslogHostname } : {}),
    ...(c.auditSyslogSdId ? { sdId: sdId(c.auditSyslogSdId) } : {}),
  };
}

/** RFC 5424 §6.3.2: an SD-ID with an `@` is name@<private enterprise number>, printable, no `= ]"`. */
function sdId(raw: string): string {
  if (!/^[\x21-\x7e]{1,32}$/.test(raw) || /[= \]"]/.test(raw) || !/^[^@]+@\d+(\.\d+)*$/.test(raw))
    throw new Error('COFFER_AUDIT_SYSLOG_SDID: expected name@enterprise-number');
  return raw;
}
