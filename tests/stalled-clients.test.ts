// A client that sends half a request and stalls must lose its socket within the configured bound,
// on both public HTTP planes. Real sockets on loopback: fastify's inject never exercises timeouts.
import net from 'node:net';
import { buildAdmin } from '@coffer/admin';
import { InProcessBus } from '@coffer/bus';
import { PrivateKey } from '@coffer/crypto';
import { buildIngest } from '@coffer/ingest';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Short bounds for the test; production values are INGEST_TIMEOUTS / ADMIN_TIMEOUTS in @coffer/http.
const timeouts = { headersMs: 600, requestMs: 1_200, idleMs: 3_000, keepAliveMs: 500 };
// Node checks the bounds on an interval (here 150 ms): allow that plus scheduling on a busy machine.
const SLACK_MS = 1_500;

/** Writes `sent`, then nothing: resolves with how long the server kept the socket open. */
function stall(port: number, sent: string): Promise<{ heldMs: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(sent));
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', () => undefined); // a reset is also a close
    socket.on('close', () => resolve({ heldMs: Date.now() - started, answer }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server held a stalled socket for 30 s'));
    }, 30_000).unref();
  });
}

const halfBody =
  'POST /v1/records HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"type":"secret","value":"';
const halfHeaders = 'POST /v1/records HTTP/1.1\r\nHost: t\r\nContent-Type: appl';

const planes: Record<string, () => Promise<FastifyInstance>> = {
  ingest: async () =>
    (
      await buildIngest({
        bus: new InProcessBus(),
        trustRoot: PrivateKey.generate('ed25519').publicKey,
        log: pino({ level: 'silent' }),
        ratePerMinute: 1_000,
        timeouts,
      })
    ).app,
  admin: () =>
    buildAdmin({
      bus: new InProcessBus(),
      trustRoot: PrivateKey.generate('ed25519').publicKey,
      log: pino({ level: 'silent' }),
      secureCookie: false,
      timeouts,
    }),
};

describe.each(Object.keys(planes))('%s closes stalled clients', (plane) => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await (planes[plane] as () => Promise<FastifyInstance>)();
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => app?.close());

  it('closes a half-sent body within the request bound', async () => {
    const { heldMs, answer } = await stall(port, halfBody);
    expect(heldMs).toBeLessThan(timeouts.requestMs + SLACK_MS);
    expect(answer).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it('closes half-sent headers within the header bound', async () => {
    const { heldMs } = await stall(port, halfHeaders);
    expect(heldMs).toBeLessThan(timeouts.headersMs + SLACK_MS);
  });

  it('closes a connection that never sends anything within the idle bound', async () => {
    const { heldMs } = await stall(port, '');
    expect(heldMs).toBeLessThan(timeouts.idleMs + SLACK_MS);
  });
});
