// A hostile bus operator between the admin plane and NATS (issue 9, items 1 and 2), played by
// tests/support/hostile-bus.ts against the shipped permissions, a real vault and PostgreSQL.
//
// Each rewrite or replay here is refused. The `item N` tests were attacks that succeeded before
// issue 9's fixes (they ran only with COFFER_OPEN_ATTACKS=1 and failed); they are now the
// regression tests for those fixes.

import { adminLogger, buildAdmin } from '@coffer/admin';
import { callVault, connectNatsBus } from '@coffer/bus';
import { type CeremonyOutput, runCeremony } from '@coffer/cli';
import {
  createSessionToken,
  enrollPassword,
  PrivateKey,
  PublicKey,
  recordBinding,
  seal,
  sessionTokenHash,
  totpBinding,
  userKeyAad,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { busNames, newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { startVault, type Vault } from '@coffer/vault';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminOperation, type HostileBus, json, startHostileBus, withJson } from './support/hostile-bus.ts';
import { submit } from './support/http.ts';
import { type Infra, startInfra, startIngest } from './support/stack.ts';

const available = await postgresAvailable();
const KA = { email: 'ka@example.com', password: 'correct-quartz-lantern-harbour-91' };
const STRONG = 'violet-harbour-compass-7342-quietly';

type Body = Record<string, unknown>;

describe.skipIf(!available)('a hostile bus between the admin plane and the vault', () => {
  let infra: Infra;
  let bus: HostileBus;
  let vault: Vault;
  let app: FastifyInstance;
  let ceremony: CeremonyOutput;
  let closeAdminBus = async () => {};

  beforeAll(async () => {
    infra = await startInfra();
    bus = await startHostileBus(infra.nats.url);
    const vaultBus = await infra.connectBus('vault');
    // The admin plane reaches NATS only through the hostile bus, with its real credential.
    const adminBus = await connectNatsBus({
      url: bus.url,
      names: busNames(),
      service: 'admin',
      user: 'admin',
      password: infra.passwords.admin,
    });
    vault = await startVault({
      sql: infra.runtime,
      bus: vaultBus,
      log: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
    ceremony = await runCeremony({
      adminEmail: KA.email,
      adminPassword: KA.password,
      shares: 3,
      threshold: 2,
      dataKeyDays: 90,
      horizonDays: 90,
      suite: 'x25519',
      now: new Date(),
    });
    await callVault(adminBus, 'bootstrap', ceremony.request);
    app = await buildAdmin({
      bus: adminBus,
      trustRoot: PublicKey.fromBase64url('ed25519', ceremony.trustRoot),
      log: adminLogger(infra.capture('admin').stream),
      signinPerMinute: 1000,
    });
    closeAdminBus = () => adminBus.close();
  });

  afterAll(async () => {
    await app?.close();
    await vault?.close();
    await closeAdminBus();
    await bus?.close();
    await infra?.close();
  });

  const signIn = (email: string, password: string, totp?: string) =>
    app.inject({ method: 'POST', url: '/api/session', payload: { email, password, ...(totp ? { totp } : {}) } });
  const as = async (email: string, password: string) => {
    const res = await signIn(email, password);
    if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
    const cookie = res.cookies.find((c) => c.name === '__Host-coffer');
    return { cookie: `${cookie?.name}=${cookie?.value}`, csrf: res.json().csrf as string };
  };
  const call = (
    who: { cookie: string; csrf: string } | undefined,
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
  ) =>
    app.inject({
      method,
      url,
      headers: who ? { cookie: who.cookie, 'x-coffer-csrf': who.csrf } : {},
      ...(payload ? { payload } : {}),
    });
  const sessions = async () => Number((await infra.owner`SELECT count(*) AS n FROM sessions`)[0]?.n);
  /** Invite and accept a user; returns their id and the fingerprint they read out. */
  const inviteAndAccept = async (ka: { cookie: string; csrf: string }, email: string, role: string) => {
    const invite = await call(ka, 'POST', '/api/users', { email, role });
    expect(invite.statusCode).toBe(201);
    const { id, inviteToken } = invite.json();
    const accepted = await call(undefined, 'POST', '/api/invites/accept', { token: inviteToken, password: STRONG });
    expect(accepted.statusCode).toBe(200);
    return { id: id as string, fingerprint: accepted.json().fingerprint as string };
  };

  describe('refused today', () => {
    it('a replayed signin.complete makes no second session', async () => {
      const completes = bus.onPublish(adminOperation('signin.complete'));
      expect((await signIn(KA.email, KA.password)).statusCode).toBe(200);
      completes.off();
      const captured = await completes.next(1);
      const before = await sessions();
      const answer = bus.onDeliver(captured.reply as string);
      await bus.inject(captured);
      expect(json(await answer.next(1))).toMatchObject({ ok: false });
      answer.off();
      expect(await sessions()).toBe(before);
    });

    it('a session hash swapped in signin.complete (to own the session) is refused: the proof binds it', async () => {
      const mine = sessionTokenHash(createSessionToken());
      const swap = bus.onPublish(adminOperation('signin.complete'), (m) =>
        withJson(m, { ...json<Body>(m), session: mine }),
      );
      const res = await signIn(KA.email, KA.password);
      swap.off();
      expect(res.statusCode).not.toBe(200);
      expect(await infra.owner`SELECT 1 FROM sessions WHERE token_hash = ${mine}`).toHaveLength(0);
    });

    it('a data key window stretched in keys.store is refused: bundles are signed by the org key', async () => {
      const ka = await as(KA.email, KA.password);
      const keysBefore = await infra.owner`SELECT id FROM data_keys`;
      const stretch = bus.onPublish(adminOperation('keys.store'), (m) => {
        const body = json<{ dataKeys: { bundle: { notAfter: string } }[] } & Body>(m);
        for (const k of body.dataKeys)
          k.bundle.notAfter = new Date(Date.parse(k.bundle.notAfter) + 86_400_000).toISOString();
        return withJson(m, body);
      });
      const res = await call(ka, 'POST', '/api/keys/pregenerate', { count: 1 });
      stretch.off();
      expect(stretch.seen).toHaveLength(1);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(await infra.owner`SELECT id FROM data_keys`).toHaveLength(keysBefore.length);
    });
  });

  describe('refused today: what the bus carries is sealed or signed', () => {
    const addRecord = async (value: string) => {
      const dataKey = ceremony.request.dataKeys[0];
      if (!dataKey) throw new Error('no data key');
      const id = newRecordId();
      const sealed = seal(
        PublicKey.fromBase64url('x25519', dataKey.bundle.publicKey),
        Buffer.from(value),
        recordBinding(id, 'secret', dataKey.bundle.id),
      );
      await infra.owner`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
        VALUES (${id}, 'secret', ${dataKey.bundle.id}, ${sealed}, ${null}, ${new Date()})`;
      return { id, sealed: sealed.toString('base64') };
    };

    it("a reveal answered with another record's blob opens nothing and is audited", async () => {
      const ka = await as(KA.email, KA.password);
      const asked = await addRecord('asked-for-value-4417');
      const other = await addRecord('other-value-9902');
      const swap = bus.onReply(adminOperation('records.reveal'), (m) => {
        const body = json<{ result: { record: Body } } & Body>(m);
        return withJson(m, {
          ...body,
          result: { ...body.result, record: { ...body.result.record, sealed: other.sealed } },
        });
      });
      const res = await call(ka, 'POST', `/api/records/${asked.id}/reveal`, { reason: 'case 7781' });
      swap.off();
      expect(swap.seen).toHaveLength(1);
      expect(res.statusCode).toBe(500);
      expect(res.json().type).toMatch(/record-integrity/);
      expect(res.body).not.toContain('value-');
      const [failed] = await infra.owner`
        SELECT outcome FROM audit_events WHERE action = 'record.reveal' AND target = ${asked.id} AND outcome = 'failure'`;
      expect(failed).toBeDefined();
    });

    it('a keys.current reply with a planted public key is refused by ingest: nothing is sealed to it', async () => {
      const planted = PrivateKey.generate('x25519').publicKey.toBase64url();
      const plant = bus.onReply(/^keys\.current$/, (m) => {
        const body = json<{ bundle: Body } & Body>(m);
        return withJson(m, { ...body, bundle: { ...body.bundle, publicKey: planted } });
      });
      const ingestBus = await connectNatsBus({
        url: bus.url,
        names: busNames(),
        service: 'ingest',
        user: 'ingest',
        password: infra.passwords.ingest,
      });
      const ingest = await startIngest(infra, ingestBus, ceremony.trustRoot);
      try {
        expect(plant.seen.length).toBeGreaterThanOrEqual(1);
        const res = await submit(ingest.url, { type: 'secret', value: 'never-sealed-to-a-planted-key' });
        expect(res.status).toBe(503);
        expect(res.body.type).toMatch(/no-verified-key/);
        expect((await infra.streamState()).lastSeq).toBe(0);
        // Refused for its signature, and said so: one `alert: data-key` line.
        expect(infra.capture('ingest').lines.some((l) => l.includes('"alert":"data-key"'))).toBe(true);
      } finally {
        plant.off();
        await ingest.close();
        await ingestBus.close();
      }
    });
  });

  describe('issue 9 items 1 and 2: formerly open attacks, now refused', () => {
    it('item 2: a rehash added to an ordinary sign-in is refused (no account takeover)', async () => {
      const victim = await inviteAndAccept(await as(KA.email, KA.password), 'victim@example.com', 'viewer');
      const attackerPassword = 'mallory-owns-this-now-8841-quartz';
      const begins = bus.onReply(adminOperation('signin.begin'));
      const plant = bus.onPublish(adminOperation('signin.complete'), async (m) => {
        const begin = json<{ result: { keyVersion: number } }>(await begins.next(1)).result;
        const fresh = await enrollPassword(attackerPassword);
        // Any key will do: the admin plane only needs to unwrap something under the attacker's KEK.
        const planted = wrapWithSymmetricKey(
          PrivateKey.generate('x25519'),
          fresh.kek,
          userKeyAad(victim.id, begin.keyVersion),
        );
        const rehash = { verifier: fresh.verifier, wrappedPrivateKey: planted.toString('base64') };
        return withJson(m, { ...json<Body>(m), rehash });
      });
      const res = await signIn('victim@example.com', STRONG);
      plant.off();
      begins.off();
      expect.soft(plant.seen).toHaveLength(1);
      expect.soft(res.statusCode).not.toBe(200); // the rewritten sign-in is refused …
      expect.soft((await signIn('victim@example.com', STRONG)).statusCode).toBe(200); // … the victim still signs in …
      expect.soft((await signIn('victim@example.com', attackerPassword)).statusCode).toBe(401); // … the attacker does not
    });

    it('item 2: a totpStep added with the totp field nulled does not sign in without a code', async () => {
      const [ka] = await infra.owner<{ id: string; public_key: string }[]>`
        SELECT id, public_key FROM users WHERE email = ${KA.email}`;
      if (!ka) throw new Error('no key-admin row');
      // Enrolled as POST /api/me/totp/verify leaves it: the secret sealed to the user's own key.
      const secret = new Secret({ size: 20 });
      const totp = new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 });
      const sealed = seal(
        PublicKey.fromBase64url('x25519', ka.public_key),
        Buffer.from(secret.bytes),
        totpBinding(ka.id),
      );
      await infra.owner`UPDATE users SET totp_sealed = ${sealed} WHERE id = ${ka.id}`;
      expect.soft((await signIn(KA.email, KA.password)).statusCode).toBe(401); // TOTP is enrolled: a code is needed
      const hide = bus.onReply(adminOperation('signin.begin'), (m) => {
        const body = json<{ result: Body } & Body>(m);
        return withJson(m, { ...body, result: { ...body.result, totp: null } });
      });
      const step = bus.onPublish(adminOperation('signin.complete'), (m) =>
        withJson(m, { ...json<Body>(m), totpStep: Math.floor(Date.now() / 30_000) }),
      );
      const res = await signIn(KA.email, KA.password); // the password alone, as a thief has it
      hide.off();
      step.off();
      await infra.owner`UPDATE users SET totp_sealed = NULL, totp_last_step = NULL WHERE id = ${ka.id}`;
      expect.soft(totp.generate()).toMatch(/^\d{6}$/);
      expect.soft(res.statusCode).toBe(401);
    });

    it('item 2: keys.store with every copy removed is refused (no key nobody holds)', async () => {
      const ka = await as(KA.email, KA.password);
      const before = (await infra.owner`SELECT id FROM data_keys`).map((r) => r.id as string);
      const empty = bus.onPublish(adminOperation('keys.store'), (m) => {
        const body = json<{ dataKeys: { copies: unknown[] }[] } & Body>(m);
        for (const k of body.dataKeys) k.copies = [];
        return withJson(m, body);
      });
      const res = await call(ka, 'POST', '/api/keys/pregenerate', { count: 1 });
      empty.off();
      expect.soft(empty.seen).toHaveLength(1);
      const orphans = await infra.owner`
        SELECT d.id FROM data_keys d WHERE NOT (d.id = ANY(${before}))
          AND NOT EXISTS (SELECT 1 FROM wrapped_keys w WHERE w.key_kind = 'data' AND w.key_id = d.id
                          AND w.recipient_kind = 'recovery')`;
      expect.soft(orphans).toHaveLength(0); // no stored data key lacks its recovery copy
      expect.soft(res.statusCode).toBeGreaterThanOrEqual(400); // and the key-admin is told so
    });

    it("item 2: keys.store with one certified holder's copy removed is refused", async () => {
      const ka = await as(KA.email, KA.password);
      const before = await infra.owner`SELECT id FROM data_keys`;
      const thin = bus.onPublish(adminOperation('keys.store'), (m) => {
        const body = json<{ dataKeys: { copies: { recipientKind: string }[] }[] } & Body>(m);
        for (const k of body.dataKeys) k.copies = k.copies.filter((c) => c.recipientKind === 'recovery');
        return withJson(m, body);
      });
      const res = await call(ka, 'POST', '/api/keys/pregenerate', { count: 1 });
      thin.off();
      expect(thin.seen).toHaveLength(1);
      expect(res.statusCode).toBe(400);
      expect(await infra.owner`SELECT id FROM data_keys`).toHaveLength(before.length);
    });

    it('item 1: a role rewritten in the users.confirm-material reply puts no key on the bus', async () => {
      const ka = await as(KA.email, KA.password);
      const auditor = await inviteAndAccept(ka, 'auditor@example.com', 'auditor');
      const promote = bus.onReply(adminOperation('users.confirm-material'), (m) => {
        const body = json<{ result: { user: Body } } & Body>(m);
        return withJson(m, { ...body, result: { ...body.result, user: { ...body.result.user, role: 'key-admin' } } });
      });
      const confirms = bus.onPublish(adminOperation('users.confirm'));
      await call(ka, 'POST', `/api/users/${auditor.id}/confirm`, { fingerprint: auditor.fingerprint });
      promote.off();
      confirms.off();
      expect.soft(promote.seen).toHaveLength(1);
      for (const sent of confirms.seen) {
        const body = json<{ orgKey?: string; dataKeys: unknown[] }>(sent);
        expect.soft(body.orgKey).toBeUndefined(); // the org key was not wrapped to the auditor …
        expect.soft(body.dataKeys).toHaveLength(0); // … nor any data key
      }
    });
  });
});
