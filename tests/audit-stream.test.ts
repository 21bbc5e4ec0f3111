/**
 * Audit streaming to a SIEM (issue 16 item 5), with real receivers: Debian's rsyslog taking RFC
 * 5425 syslog over TLS (certificates from `coffer pki`), and a NATS consumer reading the AUDIT
 * stream as the read-only `siem` bus user of deploy/nats/permissions.conf. Events are written
 * while the vault restarts mid-stream; each receiver must end with every event exactly once (by
 * seq) and a hash chain it can verify itself.
 */
import { readFileSync } from 'node:fs';
import { connect, jetstream, jetstreamManager, natsForTests, postgresAvailable } from '@coffer/testkit';
import { firstBreak, type StreamedEvent, type Vault } from '@coffer/vault';
import { appendAudit } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/http.ts';
import { makeTestPki, type TestPki } from './support/pki.ts';
import { type Rsyslog, rsyslogAvailable, startRsyslog } from './support/rsyslog.ts';
import { type Infra, startInfra, startVaultOn } from './support/stack.ts';

const available = rsyslogAvailable() && (await postgresAvailable()) && (await natsForTests()) !== undefined;
const TOTAL = 90;

/** The JSON line inside an RFC 5424 message, and the seq its structured data names. */
function parseSyslog(line: string): { event: StreamedEvent; sdSeq: number; pri: string } {
  const match =
    /^<(\d+)>1 \S+ \S+ coffer-vault - \S+ \[coffer@32473 seq="(\d+)" hash="([0-9a-f]{64})" prev="([0-9a-f]{64})"\] \u{feff}?(\{.*\})$/u.exec(
      line,
    );
  if (!match) throw new Error(`not a Coffer RFC 5424 message: ${line.slice(0, 200)}`);
  const event = JSON.parse(match[5] as string) as StreamedEvent;
  expect(event.hash).toBe(match[3]);
  expect(event.prevHash).toBe(match[4]);
  return { event, sdSeq: Number(match[2]), pri: match[1] as string };
}

describe.skipIf(!available)('audit streaming to a SIEM', () => {
  let infra: Infra;
  let pki: TestPki;
  let rsyslog: Rsyslog;
  let vault: Vault | undefined;
  let written = 0;

  const write = async (n: number) => {
    for (let i = 0; i < n; i++) {
      written++;
      await infra.owner.begin((tx) =>
        appendAudit(tx, {
          actor: 'someone',
          action: written % 7 === 0 ? 'record.reveal' : 'records.list',
          target: `r-${written}`,
          outcome: written % 5 === 0 ? 'denied' : 'success',
          origin: '127.0.0.1 Mozilla/5.0 “quoted” ünïcode',
          details: { n: written },
        }),
      );
    }
  };

  const start = async () =>
    startVaultOn(infra, {
      auditStream: {
        nats: true,
        syslog: { host: '127.0.0.1', port: rsyslog.port, ca: readFileSync(pki.ca, 'utf8'), servername: 'siem.test' },
        intervalMs: 50,
        batch: 7,
      },
    });

  beforeAll(async () => {
    infra = await startInfra();
    pki = await makeTestPki();
    const receiver = await pki.issue({ name: 'siem.test', role: 'http-server', ips: ['127.0.0.1'] });
    rsyslog = await startRsyslog({ ca: pki.ca, ...receiver });
    vault = await start();
  }, 60_000);
  afterAll(async () => {
    await vault?.close().catch(() => undefined);
    await rsyslog?.stop();
    await pki?.remove();
    await infra?.close();
  }, 30_000);

  it('streams every event once, in order, across a vault restart mid-stream and with two replicas, to rsyslog and NATS', async () => {
    await write(30);
    // Mid-stream: some, not all, events have reached the receiver when the vault goes.
    await until(
      'the first events at rsyslog',
      () => rsyslog.messages(),
      (m) => m.length >= 10,
    );
    const writing = write(30); // written while the vault stops and starts again
    await vault?.close();
    vault = undefined;
    await writing;
    vault = await start();
    // And a second replica streaming at the same time: the streaming lock lets one send at a time.
    const replica = await start();
    await write(TOTAL - 60);
    const lines = await until(
      'every event at rsyslog',
      () => rsyslog.messages(),
      (m) => m.length >= TOTAL,
    );
    await replica.close();
    const parsed = lines.map(parseSyslog);
    const events = parsed.map((p) => p.event);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1)); // no loss, no duplicate
    expect(parsed.every((p) => p.sdSeq === p.event.seq)).toBe(true);
    expect(firstBreak(events, '00'.repeat(32))).toBeNull(); // the receiver verifies the chain from genesis
    // authpriv.notice for successes, authpriv.warning for refusals.
    expect(new Set(parsed.map((p) => `${p.pri}:${p.event.outcome}`))).toEqual(new Set(['85:success', '84:denied']));
    expect(events[0]?.origin).toBe('127.0.0.1 Mozilla/5.0 “quoted” ünïcode');
    // The database head is what the receiver ends at.
    const [head] = await infra.owner`SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1`;
    // The lag a monitor sees: the syslog sink's position reaches the head.
    await until(
      'the streamed-seq metric at the head',
      async () => (await fetch(`${vault?.url}/metrics`)).text(),
      (text) => text.includes(`coffer_vault_audit_streamed_seq{sink="syslog"} ${TOTAL}`),
    );
    expect(events.at(-1)?.hash).toBe(Buffer.from(head?.hash ?? []).toString('hex'));
    await until(
      'both positions recorded',
      async () => infra.owner`SELECT sink, seq::int AS seq FROM audit_stream_positions ORDER BY sink`,
      (rows) => rows.length === 2 && rows.every((r) => r.seq === TOTAL),
    );
  });

  it('a SIEM consumer reads the NATS stream (resuming after a reconnect), and may do nothing else', async () => {
    const connectSiem = () =>
      connect({ servers: infra.nats.url, user: 'siem', pass: infra.siemPassword, inboxPrefix: '_INBOX_siem' });
    const received: StreamedEvent[] = [];
    const take = async (max: number) => {
      const nc = await connectSiem();
      // The siem user is in an account of its own (SIEM), which imports its consumer's API under CORE.JS.API.
      const consumer = await jetstream(nc, { apiPrefix: 'CORE.JS.API' }).consumers.get('AUDIT', 'siem');
      while (received.length < max) {
        const batch = await consumer.fetch({ max_messages: Math.min(20, max - received.length), expires: 1000 });
        for await (const m of batch) {
          received.push(m.json<StreamedEvent>());
          m.ack();
        }
      }
      await nc.drain();
    };
    await take(40); // a first collector run, then a restart of the collector
    await take(TOTAL);
    expect(received.map((e) => e.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(firstBreak(received, '00'.repeat(32))).toBeNull();

    // Read-only: publishing an event, purging or deleting the stream, making a consumer: refused.
    const nc = await connectSiem();
    const violations: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') violations.push(String(s.error));
    })();
    nc.publish('audit.events', '{"v":1,"seq":999}');
    for (const api of [
      'STREAM.PURGE.AUDIT',
      'STREAM.DELETE.AUDIT',
      'CONSUMER.CREATE.AUDIT.mine',
      'STREAM.INFO.INGEST',
    ]) {
      await expect(nc.request(`$JS.API.${api}`, '{}', { timeout: 1000 })).rejects.toBeInstanceOf(Error);
    }
    await until(
      'the server to report the violations',
      async () => violations,
      (v) => v.length >= 1,
      50,
    );
    expect(violations.join('\n')).toMatch(/Permissions Violation for Publish to "audit.events"/);
    const asVault = await infra.natsAsVault();
    const jsm = await jetstreamManager(asVault);
    expect((await jsm.streams.info('AUDIT')).state.messages).toBe(TOTAL); // nothing added, nothing purged
    await asVault.close();
    await nc.close();
  });
  it('a vault that died after publishing but before recording its position does not repeat itself on NATS', async () => {
    // As if the last 40 publishes had happened but their position never committed.
    await infra.owner`UPDATE audit_stream_positions SET seq = ${TOTAL - 40} WHERE sink = 'nats'`;
    await write(5);
    await until(
      'the nats position to catch up',
      async () => infra.owner`SELECT seq::int AS seq FROM audit_stream_positions WHERE sink = 'nats'`,
      (rows) => rows[0]?.seq === TOTAL + 5,
    );
    const asVault = await infra.natsAsVault();
    const jsm = await jetstreamManager(asVault);
    // The stream's last message told the streamer where it really was: five new messages, no repeat.
    expect((await jsm.streams.info('AUDIT')).state.messages).toBe(TOTAL + 5);
    await asVault.close();
  });
});
