// Issue 11: every NATS configuration deploy/ ships (nats-mtls.conf for hosts, compose's nats.conf,
// the Kubernetes nats.conf) started by a real nats-server with the environment its manifest gives
// it and certificates from `coffer pki`: each plane's certificate connects and lands on its own
// user, with exactly that user's permissions. The three once disagreed in their comments on how a
// certificate names its user, and compose and Kubernetes gave the server none of the password
// variables permissions.conf needs, so their servers would not have started: this catches both.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { caFiles } from '@coffer/cli';
import { connect, errors } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../support/pki.ts';
import { NATS_SETUPS, type NatsSetup, type ShippedNats, startShippedNats } from './shipped-nats.ts';

type Plane = 'ingest' | 'vault' | 'admin';
const PLANES: readonly Plane[] = ['ingest', 'vault', 'admin'];

// One probe per rule that tells the three users apart: what each may publish and subscribe to.
// (tests/bus-permissions.test.ts checks permissions.conf rule by rule; this checks who you are.)
const PUBLISH = ['ingest.records', 'keys.current', 'vault.admin.ping', '$JS.API.INFO', '_R_.probe'];
const SUBSCRIBE = [
  'ingest.records',
  'keys.current',
  'vault.admin.ping',
  '_INBOX_ingest.x',
  '_INBOX_vault.x',
  '_INBOX_admin.x',
];
const ALLOWED: Record<Plane, { publish: string[]; subscribe: string[] }> = {
  ingest: { publish: ['ingest.records', 'keys.current'], subscribe: ['_INBOX_ingest.x'] },
  vault: {
    publish: ['$JS.API.INFO', '_R_.probe'],
    subscribe: ['keys.current', 'vault.admin.ping', '_INBOX_vault.x'],
  },
  admin: { publish: ['vault.admin.ping'], subscribe: ['_INBOX_admin.x'] },
};

let pki: TestPki;
let tmp: string;
const servers = new Map<NatsSetup, ShippedNats>();

beforeAll(async () => {
  pki = await makeTestPki('coffer-nats-mtls-');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'coffer-nats-mtls-'));
  await pki.issue({ name: 'nats', role: 'nats-server', dns: ['localhost'], ips: ['127.0.0.1'] });
  for (const plane of PLANES) await pki.issue({ name: plane, role: 'nats-client' });
  const server = { ...pki.files('nats'), ca: pki.ca };
  for (const setup of NATS_SETUPS) {
    servers.set(setup, await startShippedNats(setup, { dir: path.join(tmp, setup), server }));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await pki?.remove();
});

function tlsOf(files?: { cert: string; key: string }) {
  return {
    ca: readFileSync(pki.ca, 'utf8'),
    ...(files ? { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') } : {}),
  };
}

/** What the server refused of `plane`'s probes, as "publish subject" / "subscription subject". */
async function refusals(url: string, plane: Plane): Promise<string[]> {
  const nc = await connect({ servers: url, tls: tlsOf(pki.files(plane)), reconnect: false, timeout: 5_000 });
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error instanceof errors.PermissionViolationError) {
        seen.push(`${s.error.operation} ${s.error.subject}`);
      }
    }
  })();
  for (const subject of SUBSCRIBE) nc.subscribe(subject);
  for (const subject of PUBLISH) nc.publish(subject, 'probe');
  const expected = PUBLISH.length + SUBSCRIBE.length - ALLOWED[plane].publish.length - ALLOWED[plane].subscribe.length;
  // The server answers each refused operation with an -ERR before the PONG of a flush; the
  // status stream delivers them asynchronously, so poll (bounded) until the count is reached.
  for (let i = 0; i < 50 && seen.length < expected; i++) {
    await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
  }
  await nc.flush();
  await nc.close().catch(() => {});
  return seen.sort();
}

describe.each(NATS_SETUPS)('deploy/ NATS config "%s" with certificates from coffer pki', (setup) => {
  it.each(PLANES)('%s connects as itself and gets exactly its permissions', async (plane) => {
    const server = servers.get(setup) as ShippedNats;
    const refusedPublish = PUBLISH.filter((s) => !ALLOWED[plane].publish.includes(s)).map((s) => `publish ${s}`);
    const refusedSubscribe = SUBSCRIBE.filter((s) => !ALLOWED[plane].subscribe.includes(s)).map(
      (s) => `subscription ${s}`,
    );
    expect(await refusals(server.url, plane)).toEqual([...refusedPublish, ...refusedSubscribe].sort());
  });

  it('refuses a client without a certificate', async () => {
    const server = servers.get(setup) as ShippedNats;
    await expect(connect({ servers: server.url, tls: tlsOf(), reconnect: false, timeout: 5_000 })).rejects.toThrow();
  });

  it('refuses a node certificate (clientAuth, for cluster routes) as a client: it names no plane', async () => {
    const server = servers.get(setup) as ShippedNats;
    const tls = tlsOf(pki.files('nats'));
    await expect(connect({ servers: server.url, tls, reconnect: false, timeout: 5_000 })).rejects.toThrow(
      /authorization/i,
    );
  });

  it("maps by the certificate's DNS name: a certificate whose subject alone says CN=ingest is refused", async () => {
    const server = servers.get(setup) as ShippedNats;
    const dir = path.join(tmp, `subject-only-${setup}`);
    const files = subjectOnlyCertificate(dir, 'ingest');
    await expect(connect({ servers: server.url, tls: tlsOf(files), reconnect: false, timeout: 5_000 })).rejects.toThrow(
      /authorization/i,
    );
  });
});

/** A client certificate from the same CA, CN=<name> and no subjectAltName (openssl). */
function subjectOnlyCertificate(dir: string, name: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const key = path.join(dir, 'client.key');
  const csr = path.join(dir, 'client.csr');
  const cert = path.join(dir, 'client.crt');
  const ext = path.join(dir, 'ext.cnf');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/O=Coffer/CN=${name}`, '-out', csr]);
  writeFileSync(ext, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  const ca = caFiles(path.dirname(pki.ca));
  execFileSync('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key };
}
