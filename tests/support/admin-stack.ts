/**
 * A vault and an admin plane on a real database and a real NATS, initialised by the ceremony,
 * with records sealed to its data keys — for the admin route tests.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { adminLogger, buildAdmin, newTotp, sealTotpSecret } from '@coffer/admin';
import { type Bus, callVault, connectNatsBus, orgStatus } from '@coffer/bus';
import { type CeremonyOutput, runCeremony } from '@coffer/cli';
import {
  type PasswordParams,
  PublicKey,
  RecordSealingContext,
  recipientPublicKey,
  recordBinding,
  seal,
} from '@coffer/crypto';
import { busNames, newRecordId } from '@coffer/protocol';
import { natsForTests, uniqueNamespace } from '@coffer/testkit';
import { startVault, type Vault } from '@coffer/vault';
import { createVaultDatabase, ReplySigner, type VaultDatabase } from '@coffer/vault/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';

export const ADMIN_EMAIL = 'key.admin@example.com';
export const ADMIN_PASSWORD = 'correct-quartz-lantern-harbour-91';

export interface AdminStack {
  readonly app: FastifyInstance;
  readonly db: VaultDatabase;
  readonly vault: Vault;
  readonly ceremony: CeremonyOutput;
  readonly logs: string[];
  /** The NATS server and bus names of this stack (to subscribe to its alerts). */
  readonly natsUrl: string;
  readonly names: ReturnType<typeof busNames>;
  /** The admin plane's bus: for calling the vault directly, as a compromised admin host could. */
  readonly adminBus: Bus;
  /** The first key-admin's TOTP secret (base32) when it was enrolled at init (`adminTotp`). */
  readonly adminTotpSecret: string | undefined;
  /** Move the vault's and the admin plane's clock (sessions expire by it, TOTP codes change with it). */
  advance(ms: number): void;
  /** The stack's clock: the time the vault and the admin plane both see. */
  now(): Date;
  /** Seal a value to the current data key and store it as ingest and the vault would. */
  /** Store a record as the vault would; `format` 2 seals it under a fresh record context. */
  addRecord(type: 'pan' | 'ssn' | 'secret', value: string, hint?: string | null, format?: 1 | 2): Promise<string>;
  /**
   * A reply signed by this vault's reply key, as the vault's router would send it: for a test
   * that plays another vault version answering on this vault's behalf (its key, its certificate).
   */
  signAsVault(op: string, request: Uint8Array, reply: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function startAdminStack(
  options: {
    passwordParams?: PasswordParams;
    /** COFFER_REQUIRE_MFA for both the admin plane and the vault; off unless asked for. */
    requireMfa?: boolean;
    /** Seconds the portal keeps a revealed value on screen. */
    revealSeconds?: number;
    /** The vault's passkey settings (COFFER_PASSKEY_ORIGIN): the portal's origin and RP ID. */
    passkeys?: { origin: string; rpId: string };
    /** COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS for the vault. */
    passkeyForKeyAdmins?: boolean;
    /** COFFER_REVOCATION_STATE_FILE of the admin plane. */
    revocationStateFile?: string;
    /** Certify the vault's reply key in the ceremony (default true), as `coffer init` does. */
    certifyVaultKey?: boolean;
    /** COFFER_ACCEPT_UNSIGNED_VAULT_REPLIES for the admin plane (default false). */
    acceptUnsignedVaultReplies?: boolean;
    /** Enrol the first key-admin's authenticator at init, as `coffer init --totp-file` does. */
    adminTotp?: boolean;
    /** issue 16: the vault's decoy key and two-person rules. */
    decoyKey?: Buffer;
    twoPerson?: Parameters<typeof startVault>[0]['twoPerson'];
    /** The org's suite (its data keys'); X25519 unless a test asks for X-Wing. */
    suite?: 'x25519' | 'xwing';
    /** The vault's minutely janitor; off for a test that runs its steps itself and counts them. */
    vaultJanitor?: boolean;
    /** The admin plane's data key window in days (its default otherwise), for a test that needs many keys. */
    dataKeyDays?: number;
  } = {},
): Promise<AdminStack> {
  const requireMfa = options.requireMfa ?? false;
  const url = (await natsForTests()) as string;
  const names = busNames(uniqueNamespace());
  const db = await createVaultDatabase();
  const buses: Bus[] = [
    await connectNatsBus({ url, names, service: 'vault' }),
    await connectNatsBus({ url, names, service: 'admin' }),
  ];
  const [vaultBus, adminBus] = buses as [Bus, Bus];
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  // The reply key in a file, so that signAsVault signs with the very key the vault does.
  const keyDir = await mkdtemp(path.join(tmpdir(), 'coffer-admin-stack-'));
  const replyKeyFile = path.join(keyDir, 'vault-reply-key.json');
  const vault = await startVault({
    sql: db.runtime,
    replyKeyFile,
    bus: vaultBus,
    log: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    now,
    requireMfa,
    ...(options.passkeys ? { passkeys: options.passkeys } : {}),
    ...(options.passkeyForKeyAdmins ? { passkeyForKeyAdmins: true } : {}),
    ...(options.decoyKey ? { decoyKey: options.decoyKey } : {}),
    ...(options.twoPerson ? { twoPerson: options.twoPerson } : {}),
    ...(options.vaultJanitor === false ? { janitor: false } : {}),
  });
  const ceremony = await runCeremony({
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    shares: 3,
    threshold: 2,
    dataKeyDays: 90,
    horizonDays: 90,
    now: now(),
    vaultReplyKey: options.certifyVaultKey === false ? undefined : (await orgStatus(adminBus)).replyKey,
    suite: options.suite ?? 'x25519',
  });
  let adminTotpSecret: string | undefined;
  if (options.adminTotp) {
    const a = ceremony.request.admin;
    const { secret } = newTotp(a.email);
    a.totpSealed = sealTotpSecret(recipientPublicKey(a.publicKey), a.id, secret).toString('base64');
    adminTotpSecret = secret.base32;
  }
  await callVault(adminBus, 'bootstrap', ceremony.request);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildAdmin({
    bus: adminBus,
    trustRoot: PublicKey.fromBase64url('ed25519', ceremony.trustRoot),
    log: adminLogger(sink),
    signinPerMinute: 1000,
    now,
    ...(options.passwordParams ? { passwordParams: options.passwordParams } : {}),
    ...(options.revealSeconds ? { revealSeconds: options.revealSeconds } : {}),
    ...(options.revocationStateFile ? { revocationStateFile: options.revocationStateFile } : {}),
    ...(options.acceptUnsignedVaultReplies ? { acceptUnsignedVaultReplies: true } : {}),
    ...(options.dataKeyDays ? { dataKeyDays: options.dataKeyDays } : {}),
  });
  const [dataKey] = ceremony.request.dataKeys;
  if (!dataKey) throw new Error('the ceremony made no data key');
  return {
    app,
    db,
    vault,
    ceremony,
    logs,
    natsUrl: url,
    names,
    adminBus,
    adminTotpSecret,
    advance(ms) {
      offset += ms;
    },
    now,
    async addRecord(type, value, hint = type === 'secret' ? null : value.replace(/\D/g, '').slice(-4), format = 1) {
      const id = newRecordId();
      const key = PublicKey.fromBase64url(dataKey.bundle.suite ?? 'x25519', dataKey.bundle.publicKey);
      if (format === 2) {
        const context = RecordSealingContext.create(key, dataKey.bundle.id);
        const sealed = context.seal(id, type, Buffer.from(value));
        // As the vault stores ingest's records: both context tables and the enc's digest (migration 012).
        const encSha256 = createHash('sha256').update(context.enc).digest();
        await db.owner`INSERT INTO record_contexts (id, data_key_id, enc)
          VALUES (${context.contextId}, ${dataKey.bundle.id}, ${context.enc})`;
        await db.owner`INSERT INTO record_context_encs (context_id, enc_sha256, data_key_id, enc)
          VALUES (${context.contextId}, ${encSha256}, ${dataKey.bundle.id}, ${context.enc})`;
        await db.owner`INSERT INTO records (id, type, data_key_id, context_id, context_enc_sha256, sealed, hint,
                                            submitted_at)
          VALUES (${id}, ${type}, ${dataKey.bundle.id}, ${context.contextId}, ${encSha256}, ${sealed}, ${hint},
                  ${now()})`;
        context.destroy();
        return id;
      }
      const sealed = seal(key, Buffer.from(value), recordBinding(id, type, dataKey.bundle.id));
      // stored_at is the database's now(), as the vault stores it: an export's cap compares it with
      // the export's start by the same clock (issue 9 item 4c), whatever the stack's clock says.
      await db.owner`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
        VALUES (${id}, ${type}, ${dataKey.bundle.id}, ${sealed}, ${hint}, ${now()})`;
      return id;
    },
    async signAsVault(op, request, reply) {
      return (await ReplySigner.open(db.runtime, replyKeyFile)).seal(op, request, reply);
    },
    async close() {
      await app.close();
      await vault.close();
      for (const bus of buses) await bus.close();
      await db.drop();
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}

/** A second admin plane on the stack's vault and bus, as a replica would run (e.g. a lower sign-in limit). */
export async function anotherAdmin(
  stack: AdminStack,
  options: { signinPerMinute?: number } = {},
): Promise<FastifyInstance> {
  return buildAdmin({
    bus: stack.adminBus,
    trustRoot: PublicKey.fromBase64url('ed25519', stack.ceremony.trustRoot),
    log: adminLogger(new Writable({ write: (_chunk, _enc, done) => done() })),
    now: stack.now,
    ...options,
  });
}

/** Sign in and return the cookie header and CSRF value for later requests; `totp` when enrolled. */
export async function signIn(app: FastifyInstance, email = ADMIN_EMAIL, password = ADMIN_PASSWORD, totp?: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/session',
    payload: { email, password, ...(totp === undefined ? {} : { totp }) },
  });
  if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === '__Host-coffer');
  if (!cookie) throw new Error('no session cookie');
  return { cookie: `${cookie.name}=${cookie.value}`, token: cookie.value, csrf: res.json().csrf as string, res };
}

export type Signed = Awaited<ReturnType<typeof signIn>>;

/** One API call as `who` (cookie and CSRF header), or anonymously. */
export function call(
  app: FastifyInstance,
  who: Signed | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  const headers: Record<string, string> = {};
  if (who) {
    headers.cookie = who.cookie;
    headers['x-coffer-csrf'] = who.csrf;
  }
  return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

/** Invite, accept with `password` and confirm by fingerprint, as `admin`: one enrolled user. */
export async function enrolUser(app: FastifyInstance, admin: Signed, email: string, role: string, password: string) {
  const invite = await call(app, admin, 'POST', '/api/users', { email, role });
  if (invite.statusCode !== 201) throw new Error(`invite failed: ${invite.statusCode} ${invite.body}`);
  const { id, inviteToken } = invite.json();
  const accepted = await call(app, undefined, 'POST', '/api/invites/accept', { token: inviteToken, password });
  if (accepted.statusCode !== 200) throw new Error(`accept failed: ${accepted.statusCode} ${accepted.body}`);
  const confirmed = await call(app, admin, 'POST', `/api/users/${id}/confirm`, {
    fingerprint: accepted.json().fingerprint,
  });
  if (confirmed.statusCode !== 200) throw new Error(`confirm failed: ${confirmed.statusCode} ${confirmed.body}`);
  return { id: id as string, confirmed: confirmed.json() as { wrappedKeys: number } };
}
