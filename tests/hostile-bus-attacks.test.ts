// A hostile bus operator between the admin plane and NATS (issue 9, items 1 and 2), played by
// tests/support/hostile-bus.ts against the shipped permissions, a real vault and PostgreSQL.
//
// Each rewrite or replay here is refused. The `item N` tests were attacks that succeeded before
// issue 9's fixes (they ran only with COFFER_OPEN_ATTACKS=1 and failed); they are now the
// regression tests for those fixes.

import { randomBytes, randomUUID } from 'node:crypto';
import { adminLogger, buildAdmin } from '@coffer/admin';
import { callVault, connectNatsBus, orgStatus } from '@coffer/bus';
import { type CeremonyOutput, runCeremony } from '@coffer/cli';
import {
  certifyVaultReplyKey,
  createSessionToken,
  enrollPassword,
  PrivateKey,
  PublicKey,
  recordBinding,
  seal,
  sessionTokenHash,
  signVaultReply,
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
import {
  adminOperation,
  adminReplyBody,
  type HostileBus,
  json,
  rewriteAdminReply,
  startHostileBus,
  withJson,
} from './support/hostile-bus.ts';
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
      vaultReplyKey: (await orgStatus(adminBus)).replyKey,
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

  /**
   * The key-admin pregenerates one data key while the bus applies `rewrite` to every data key of
   * the keys.store request on its way to the vault: the answer, and the requests the bus rewrote.
   */
  const pregenerateRewriting = async <K>(rewrite: (key: K) => void) => {
    const ka = await as(KA.email, KA.password);
    const hook = bus.onPublish(adminOperation('keys.store'), (m) => {
      const body = json<{ dataKeys: K[] } & Body>(m);
      for (const k of body.dataKeys) rewrite(k);
      return withJson(m, body);
    });
    try {
      return { res: await call(ka, 'POST', '/api/keys/pregenerate', { count: 1 }), seen: hook.seen };
    } finally {
      hook.off();
    }
  };

  /** Ingest as its own bus user, through the hostile bus; close() ends it and its connection. */
  const ingestThroughBus = async () => {
    const ingestBus = await connectNatsBus({
      url: bus.url,
      names: busNames(),
      service: 'ingest',
      user: 'ingest',
      password: infra.passwords.ingest,
    });
    const ingest = await startIngest(infra, ingestBus, ceremony.trustRoot);
    return {
      url: ingest.url,
      close: async () => {
        await ingest.close();
        await ingestBus.close();
      },
    };
  };

  /** Rewrite the role in the users.confirm-material reply to key-admin (what issue 9 item 1 feared). */
  const promoteInConfirmMaterial = () =>
    bus.onReply(adminOperation('users.confirm-material'), (m) =>
      rewriteAdminReply(m, (body) => {
        const result = body.result as { user: Body };
        return { ...body, result: { ...result, user: { ...result.user, role: 'key-admin' } } };
      }),
    );

  describe('refused today', () => {
    it('a replayed signin.complete makes no second session', async () => {
      const completes = bus.onPublish(adminOperation('signin.complete'));
      expect((await signIn(KA.email, KA.password)).statusCode).toBe(200);
      completes.off();
      const captured = await completes.next(1);
      const before = await sessions();
      const answer = bus.onDeliver(captured.reply as string);
      await bus.inject(captured);
      expect(adminReplyBody(await answer.next(1))).toMatchObject({ ok: false });
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
      const keysBefore = await infra.owner`SELECT id FROM data_keys`;
      const { res, seen } = await pregenerateRewriting<{ bundle: { notAfter: string } }>((k) => {
        k.bundle.notAfter = new Date(Date.parse(k.bundle.notAfter) + 86_400_000).toISOString();
      });
      expect(seen).toHaveLength(1);
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

    it("a reveal answered with another record's blob opens nothing", async () => {
      const ka = await as(KA.email, KA.password);
      const asked = await addRecord('asked-for-value-4417');
      const other = await addRecord('other-value-9902');
      const swap = bus.onReply(adminOperation('records.reveal'), (m) =>
        rewriteAdminReply(m, (body) => {
          const { result } = body as { result: { record: Body } };
          return { ...body, result: { ...result, record: { ...result.record, sealed: other.sealed } } };
        }),
      );
      const res = await call(ka, 'POST', `/api/records/${asked.id}/reveal`, { reason: 'case 7781' });
      swap.off();
      expect(swap.seen).toHaveLength(1);
      // The reply is signed now: the swap is refused before the blob is even looked at (before
      // replies were signed, the blob's binding refused it: 500 record-integrity, audited).
      expect(res.statusCode).toBe(502);
      expect(res.json().type).toMatch(/vault-reply-unauthenticated$/);
      expect(res.body).not.toContain('value-');
    });

    const lastExportFinish = async () =>
      (
        await infra.owner`SELECT outcome, details FROM audit_events WHERE action = 'export.finish'
          ORDER BY seq DESC LIMIT 1`
      )[0];

    it('issue 14: one digit of a submitted_at changed in an export page frame: the export is cut, none of it shown', async () => {
      const ka = await as(KA.email, KA.password);
      await addRecord('exported-value-5521');
      // submitted_at is outside the record's AAD: only the frame's signature stands between a
      // rewritten date and the CSV. One millisecond digit of the page's last date, still well-formed.
      const flip = bus.onReply(adminOperation('export.block'), (m) => {
        const payload = Buffer.from(m.payload);
        const at = payload.lastIndexOf(`${new Date().toISOString().slice(0, 4)}-`) + 22;
        payload.writeUInt8(payload.readUInt8(at) === 0x30 ? 0x31 : 0x30, at);
        return { ...m, payload };
      });
      // Headers are out when the first page is refused: the response is cut, never ended cleanly.
      await expect(call(ka, 'POST', '/api/exports', { reason: 'case 8812' })).rejects.toThrow(/destroyed/);
      flip.off();
      expect(flip.seen).toHaveLength(1);
      expect(await lastExportFinish()).toMatchObject({ outcome: 'failure', details: { count: 0 } });
      // Untouched, the same export is whole: the refusal above was the changed byte's.
      const whole = await call(ka, 'POST', '/api/exports', { reason: 'case 8812, again' });
      expect(whole.body).toContain('exported-value-5521');
      expect(whole.body).toContain('# coffer export complete');
    });

    it("issue 14: an earlier export's genuine page frame replayed to a new export's request is refused", async () => {
      const ka = await as(KA.email, KA.password);
      await addRecord('replayed-page-value-3307');
      const first = bus.onReply(adminOperation('export.block'));
      expect((await call(ka, 'POST', '/api/exports', { reason: 'case 9120' })).statusCode).toBe(200);
      const old = await first.next(1);
      first.off();
      const replay = bus.onReply(adminOperation('export.block'), (m) => ({ ...m, payload: old.payload }));
      await expect(call(ka, 'POST', '/api/exports', { reason: 'case 9121' })).rejects.toThrow(/destroyed/);
      replay.off();
      expect(replay.seen).toHaveLength(1);
      expect(await lastExportFinish()).toMatchObject({ outcome: 'failure', details: { count: 0 } });
    });

    it('a keys.current reply with a planted public key is refused by ingest: nothing is sealed to it', async () => {
      const planted = PrivateKey.generate('x25519').publicKey.toBase64url();
      const plant = bus.onReply(/^keys\.current$/, (m) => {
        const body = json<{ bundle: Body } & Body>(m);
        return withJson(m, { ...body, bundle: { ...body.bundle, publicKey: planted } });
      });
      const ingest = await ingestThroughBus();
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
      }
    });
  });

  describe('issue 9 items 1 and 2: formerly open attacks, now refused', () => {
    it('item 2: a rehash added to an ordinary sign-in is refused (no account takeover)', async () => {
      const victim = await inviteAndAccept(await as(KA.email, KA.password), 'victim@example.com', 'viewer');
      const attackerPassword = 'mallory-owns-this-now-8841-quartz';
      const begins = bus.onReply(adminOperation('signin.begin'));
      const plant = bus.onPublish(adminOperation('signin.complete'), async (m) => {
        const begin = adminReplyBody<{ result: { keyVersion: number } }>(await begins.next(1)).result;
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
      const hide = bus.onReply(adminOperation('signin.begin'), (m) =>
        rewriteAdminReply(m, (body) => ({ ...body, result: { ...(body.result as Body), totp: null } })),
      );
      const step = bus.onPublish(adminOperation('signin.complete'), (m) =>
        withJson(m, { ...json<Body>(m), totpStep: Math.floor(Date.now() / 30_000) }),
      );
      const res = await signIn(KA.email, KA.password); // the password alone, as a thief has it
      hide.off();
      step.off();
      await infra.owner`UPDATE users SET totp_sealed = NULL, totp_last_step = NULL WHERE id = ${ka.id}`;
      expect.soft(totp.generate()).toMatch(/^\d{6}$/);
      expect.soft(res.statusCode).not.toBe(200); // 502 now: the rewritten signin.begin reply is not signed for it
    });

    it('item 2: keys.store with every copy removed is refused (no key nobody holds)', async () => {
      const before = (await infra.owner`SELECT id FROM data_keys`).map((r) => r.id as string);
      const { res, seen } = await pregenerateRewriting<{ copies: unknown[] }>((k) => {
        k.copies = [];
      });
      expect.soft(seen).toHaveLength(1);
      const orphans = await infra.owner`
        SELECT d.id FROM data_keys d WHERE NOT (d.id = ANY(${before}))
          AND NOT EXISTS (SELECT 1 FROM wrapped_keys w WHERE w.key_kind = 'data' AND w.key_id = d.id
                          AND w.recipient_kind = 'recovery')`;
      expect.soft(orphans).toHaveLength(0); // no stored data key lacks its recovery copy
      expect.soft(res.statusCode).toBeGreaterThanOrEqual(400); // and the key-admin is told so
    });

    it("item 2: keys.store with one certified holder's copy removed is refused", async () => {
      const before = await infra.owner`SELECT id FROM data_keys`;
      const { res, seen } = await pregenerateRewriting<{ copies: { recipientKind: string }[] }>((k) => {
        k.copies = k.copies.filter((c) => c.recipientKind === 'recovery');
      });
      expect(seen).toHaveLength(1);
      // The vault refuses it; its (signed) refusal covers the request it received, not the one the
      // admin plane sent, so the admin plane reads it as an unauthenticated reply: 502.
      expect(res.statusCode).toBe(502);
      expect(await infra.owner`SELECT id FROM data_keys`).toHaveLength(before.length);
    });

    it('item 1: a role rewritten in the users.confirm-material reply puts no key on the bus', async () => {
      const ka = await as(KA.email, KA.password);
      const auditor = await inviteAndAccept(ka, 'auditor@example.com', 'auditor');
      const promote = promoteInConfirmMaterial();
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
  describe('issue 9 item 2: the vault signs its replies, the admin plane checks them', () => {
    type Listed = { result: { items: { email: string; role: string }[] } } & Body;
    const setRole = (email: string, role: string) => (body: Record<string, unknown>) => {
      const { items } = (body as Listed).result;
      return { ...body, result: { items: items.map((u) => (u.email === email ? { ...u, role } : u)) } };
    };

    it('a role rewritten in a users.list reply is refused (502), nothing of it shown', async () => {
      const ka = await as(KA.email, KA.password);
      await inviteAndAccept(ka, 'listed@example.com', 'viewer');
      const promote = bus.onReply(adminOperation('users.list'), (m) =>
        rewriteAdminReply(m, setRole('listed@example.com', 'key-admin')),
      );
      const res = await call(ka, 'GET', '/api/users');
      promote.off();
      expect(promote.seen).toHaveLength(1);
      expect(res.statusCode).toBe(502);
      expect(res.json().type).toMatch(/vault-reply-unauthenticated$/);
      expect(res.body).not.toContain('listed@example.com');
      expect(infra.capture('admin').lines.some((l) => l.includes('"alert":"vault-reply"'))).toBe(true);
    });

    it('a role rewritten in a users.confirm-material reply is refused (502): nothing is wrapped or sent', async () => {
      const ka = await as(KA.email, KA.password);
      const invitee = await inviteAndAccept(ka, 'confirm-me@example.com', 'auditor');
      const promote = promoteInConfirmMaterial();
      const confirms = bus.onPublish(adminOperation('users.confirm'));
      const res = await call(ka, 'POST', `/api/users/${invitee.id}/confirm`, { fingerprint: invitee.fingerprint });
      promote.off();
      confirms.off();
      expect(promote.seen).toHaveLength(1);
      expect(res.statusCode).toBe(502);
      expect(res.json().type).toMatch(/vault-reply-unauthenticated$/);
      expect(confirms.seen).toHaveLength(0); // no users.confirm left the admin plane: nothing wrapped
      const [row] = await infra.owner`SELECT status FROM users WHERE id = ${invitee.id}`;
      expect(row?.status).not.toBe('active');
    });

    it('an earlier genuine users.list reply replayed to a new request is refused', async () => {
      const ka = await as(KA.email, KA.password);
      const first = bus.onReply(adminOperation('users.list'));
      expect((await call(ka, 'GET', '/api/users')).statusCode).toBe(200);
      const old = await first.next(1);
      first.off();
      await inviteAndAccept(ka, 'after-the-capture@example.com', 'viewer');
      // The same session, the same operation, an identical request body: only the nonce differs.
      const replay = bus.onReply(adminOperation('users.list'), (m) => ({ ...m, payload: old.payload }));
      const res = await call(ka, 'GET', '/api/users');
      replay.off();
      expect(replay.seen).toHaveLength(1);
      expect(res.statusCode).toBe(502);
      expect(res.json().type).toMatch(/vault-reply-unauthenticated$/);
      // Without the replay the new user is listed: the genuine path still works.
      const fresh = await call(ka, 'GET', '/api/users');
      expect(fresh.statusCode).toBe(200);
      expect(fresh.body).toContain('after-the-capture@example.com');
    });

    it('a reply signed for this very request by a key the trust root did not certify is refused', async () => {
      const ka = await as(KA.email, KA.password);
      const rogueRoot = PrivateKey.generate('ed25519');
      const rogueKey = PrivateKey.generate('ed25519');
      const requests = bus.onPublish(adminOperation('users.list'));
      const forge = bus.onReply(adminOperation('users.list'), async (m) => {
        const request = (await requests.next(1)).payload;
        const inner = JSON.stringify(setRole(KA.email, 'auditor')(adminReplyBody(m)));
        return withJson(m, {
          v: 2,
          reply: inner,
          key: rogueKey.publicKey.toBase64url(),
          certificate: certifyVaultReplyKey(rogueRoot, rogueKey.publicKey),
          signature: signVaultReply(rogueKey, 'users.list', request, Buffer.from(inner)),
        });
      });
      const res = await call(ka, 'GET', '/api/users');
      forge.off();
      requests.off();
      expect(forge.seen).toHaveLength(1);
      expect(res.statusCode).toBe(502);
      expect(res.json().type).toMatch(/vault-reply-unauthenticated$/);
    });

    it('an unsigned reply (the signature stripped) is refused by an admin plane that requires signatures', async () => {
      const ka = await as(KA.email, KA.password);
      const strip = bus.onReply(adminOperation('whoami'), (m) => withJson(m, adminReplyBody(m)));
      const res = await call(ka, 'GET', '/api/me');
      strip.off();
      expect(strip.seen).toHaveLength(1);
      expect(res.statusCode).toBe(502);
    });
  });
  describe('forged record contexts (review finding)', () => {
    it('a batch carrying a genuine context id with a wrong enc, stored first, does not make the genuine records unopenable', async () => {
      const ka = await as(KA.email, KA.password);
      const forgedEnc = randomBytes(32).toString('base64');
      // What someone with ingest's credential (or the bus) can do once they see a context id:
      // publish a batch naming it with another enc, ahead of the genuine batch.
      const forge = bus.onPublish(/(^|\.)ingest\.records$/, (m) => {
        const batch = json<{ v: number; batchId: string; contexts: Body[]; records: Body[] }>(m);
        if (batch.v !== 3) return undefined;
        const forged = {
          ...batch,
          batchId: randomUUID(),
          contexts: batch.contexts.map((c) => ({ ...c, enc: forgedEnc })),
          records: batch.records.map((r) => ({ ...r, id: newRecordId() })),
        };
        const headers = m.headers && {
          ...m.headers,
          fields: m.headers.fields.map(
            ([k, v]) => [k, k.toLowerCase() === 'nats-msg-id' ? forged.batchId : v] as const,
          ),
        };
        return [{ ...withJson(m, forged), headers, reply: undefined }, m];
      });
      const ingest = await ingestThroughBus();
      try {
        const sent = await submit(ingest.url, { type: 'secret', value: 'genuine-under-a-forged-context' });
        expect(sent.status).toBe(202);
        const id = sent.body.id as string;
        expect(forge.seen.length).toBeGreaterThanOrEqual(1);
        for (let i = 0; i < 300 && (await infra.owner`SELECT 1 FROM records WHERE id = ${id}`).length === 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const [stored] = await infra.owner<{ context_id: string; legacy_enc: Buffer }[]>`
          SELECT r.context_id, c.enc AS legacy_enc FROM records r JOIN record_contexts c ON c.id = r.context_id
          WHERE r.id = ${id}`;
        if (!stored) throw new Error('the genuine record was not stored');
        // The forged context was stored first under the genuine id …
        expect(stored.legacy_enc.toString('base64')).toBe(forgedEnc);
        // … and the genuine record still opens, under the context it was sealed under.
        const res = await call(ka, 'POST', `/api/records/${id}/reveal`, { reason: 'case 5521' });
        expect(res.statusCode).toBe(200);
        expect(res.json().value).toBe('genuine-under-a-forged-context');
      } finally {
        forge.off();
        await ingest.close();
      }
    });
  });
});
