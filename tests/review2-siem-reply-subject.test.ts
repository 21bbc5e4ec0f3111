/**
 * Review (issue 16 item 5): the `siem` bus user is meant to read the audit stream and nothing
 * else. It may publish pull requests to its consumer, and a publish permission cannot restrict
 * the reply subject (deploy/nats/permissions.conf says so): JetStream delivers the audit events
 * to whatever reply subject the request named, inside CORE — such as ingest's records subject,
 * where the RECORDS stream stores them and the vault takes them as submissions.
 * Real nats-server with the shipped permissions, real PostgreSQL, a real vault.
 */

import { busNames } from '@coffer/protocol';
import { connect, jetstreamManager, natsForTests, postgresAvailable } from '@coffer/testkit';
import type { Vault } from '@coffer/vault';
import { appendAudit } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/http.ts';
import { type Infra, startInfra, startVaultOn } from './support/stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('the SIEM bus user only reads', () => {
  let infra: Infra;
  let vault: Vault | undefined;

  beforeAll(async () => {
    infra = await startInfra();
    vault = await startVaultOn(infra, {
      auditStream: { nats: true, intervalMs: 50, batch: 7 },
    });
  }, 60_000);
  afterAll(async () => {
    await vault?.close().catch(() => undefined);
    await infra?.close();
  }, 30_000);

  it("cannot have the audit events delivered onto ingest's records subject", async () => {
    for (let i = 0; i < 3; i++) {
      await infra.owner.begin((tx) =>
        appendAudit(tx, { actor: 'someone', action: 'records.list', target: `r-${i}`, outcome: 'success' }),
      );
    }
    const asVault = await infra.natsAsVault();
    const jsm = await jetstreamManager(asVault);
    await until(
      'the audit stream',
      async () => (await jsm.streams.info('AUDIT').catch(() => undefined))?.state.messages ?? 0,
      (n) => n >= 3,
    );
    const recordsBefore = (await jsm.streams.info(busNames().stream)).state.last_seq;
    const siem = await connect({
      servers: infra.nats.url,
      user: 'siem',
      pass: infra.siemPassword,
      inboxPrefix: '_INBOX_siem',
    });
    // A pull request whose reply subject is ingest's records subject, not the SIEM's inbox.
    // Under either name of its consumer's API (CORE's own, and the prefix its account imports it by).
    for (const next of ['$JS.API.CONSUMER.MSG.NEXT.AUDIT.siem', 'CORE.JS.API.CONSUMER.MSG.NEXT.AUDIT.siem']) {
      siem.publish(next, JSON.stringify({ batch: 3, expires: 1_000_000_000 }), { reply: busNames().records });
    }
    await siem.flush();
    await new Promise((r) => setTimeout(r, 1500)); // a bounded wait for a delivery that must not happen
    const recordsAfter = (await jsm.streams.info(busNames().stream)).state.last_seq;
    const dead = await infra.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters`;
    await siem.close();
    await asVault.close();
    expect({ stored: recordsAfter - recordsBefore, deadLetters: dead[0]?.n }).toEqual({ stored: 0, deadLetters: 0 });
  });
});
