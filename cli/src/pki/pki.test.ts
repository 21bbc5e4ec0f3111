// `coffer pki` end to end: the files it writes, checked by a real peer (openssl), the extensions
// each role gets, rotation, and mutual TLS handshakes between openssl and a node:tls server.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiCommand } from '../commands/pki.ts';

const run = promisify(execFile);
const openssl = (...args: string[]) => run('openssl', args).then((r) => r.stdout + r.stderr);
const hasOpenssl = await openssl('version').then(
  () => true,
  () => false,
);
const requireServices = process.env.COFFER_REQUIRE_SERVICES === '1';

describe.skipIf(!hasOpenssl && !requireServices)('coffer pki', () => {
  let base: string;
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const quiet = async (argv: string[]) => {
    const write = process.stdout.write;
    process.stdout.write = () => true;
    try {
      await pkiCommand(argv);
    } finally {
      process.stdout.write = write;
    }
  };

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'coffer-pki-test-'));
    dir = path.join(base, 'pki');
    await quiet(['init', '--dir', dir]);
    await quiet(['issue', 'bus', '--role', 'nats-server', '--dir', dir, '--dns', 'nats.internal', '--ip', '127.0.0.1']);
    await quiet(['issue', 'ingest', '--role', 'nats-client', '--dir', dir]);
    await quiet(['issue', 'database', '--role', 'pg-server', '--dir', dir, '--ip', '127.0.0.1']);
    await quiet(['issue', 'coffer_vault', '--role', 'pg-client', '--dir', dir]);
    await quiet(['issue', 'admin.example', '--role', 'http-server', '--dir', dir, '--ip', '127.0.0.1']);
  }, 120_000);
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('keeps keys 0600 in a 0700 directory', () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const key of ['ca.key', 'bus.key', 'ingest.key', 'database.key', 'coffer_vault.key', 'admin.example.key']) {
      expect(statSync(file(key)).mode & 0o777, key).toBe(0o600);
    }
  });

  it('issues certificates openssl verifies against the root, for their purpose only', async () => {
    const verify = (name: string, purpose: string) =>
      openssl('verify', '-CAfile', file('ca.crt'), '-purpose', purpose, file(`${name}.crt`));
    for (const name of ['bus', 'database', 'admin.example']) {
      expect(await verify(name, 'sslserver')).toContain(': OK');
    }
    // Only the NATS node's certificate is also a client one: it dials its cluster peers with it.
    expect(await verify('bus', 'sslclient')).toContain(': OK');
    for (const name of ['database', 'admin.example']) {
      await expect(verify(name, 'sslclient')).rejects.toThrow(/unsuitable certificate purpose/);
    }
    for (const name of ['ingest', 'coffer_vault']) {
      expect(await verify(name, 'sslclient')).toContain(': OK');
      await expect(verify(name, 'sslserver')).rejects.toThrow(/unsuitable certificate purpose/);
    }
  });

  it('puts the identity where each peer looks for it', () => {
    const cert = (name: string) => new X509Certificate(readFileSync(file(`${name}.crt`)));
    const ca = cert('ca');
    expect(ca.ca).toBe(true);
    expect(cert('bus').ca).toBe(false);
    // nats-server dials by DNS name or address; verify_and_map maps a client's DNS SAN to its user.
    expect(cert('bus').subjectAltName).toBe('DNS:bus, DNS:nats.internal, IP Address:127.0.0.1');
    expect(cert('ingest').subjectAltName).toBe('DNS:ingest');
    // A NATS node is also a client of its cluster peers (routes with verify); a plane is a client only.
    expect(cert('bus').keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert('ingest').keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    // PostgreSQL `cert` authentication maps the common name to the role.
    expect(cert('coffer_vault').subject).toContain('CN=coffer_vault');
    expect(cert('coffer_vault').subjectAltName).toBeUndefined();
    expect(cert('bus').checkIssued(ca) && cert('bus').verify(ca.publicKey)).toBe(true);
  });

  it('refuses to replace the CA or an issued identity', async () => {
    await expect(pkiCommand(['init', '--dir', dir])).rejects.toThrow(/already holds a CA/);
    await expect(pkiCommand(['issue', 'ingest', '--role', 'nats-client', '--dir', dir])).rejects.toThrow(
      /already issued/,
    );
    await expect(pkiCommand(['issue', 'x', '--role', 'root', '--dir', dir])).rejects.toThrow(/--role must be/);
  });

  it('rotates what expires within the window, with a new key, and keeps the rest', async () => {
    await quiet(['issue', 'short', '--role', 'nats-client', '--dir', dir, '--days', '3']);
    const before = { short: readFileSync(file('short.key'), 'utf8'), bus: readFileSync(file('bus.crt'), 'utf8') };
    await quiet(['rotate', '--dir', dir, '--within', '30']);
    const after = new X509Certificate(readFileSync(file('short.crt')));
    expect(readFileSync(file('short.key'), 'utf8')).not.toBe(before.short);
    expect(new Date(after.validTo).getTime()).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    expect(
      after.checkPrivateKey(
        await import('node:crypto').then((c) => c.createPrivateKey(readFileSync(file('short.key')))),
      ),
    ).toBe(true);
    expect(readFileSync(file('bus.crt'), 'utf8')).toBe(before.bus);
    expect(statSync(file('short.key')).mode & 0o777).toBe(0o600);
  });

  it('completes a mutual TLS handshake with openssl s_client, and refuses one without a client certificate', async () => {
    const seen: unknown[] = [];
    const server = tls.createServer(
      {
        cert: readFileSync(file('admin.example.crt')),
        key: readFileSync(file('admin.example.key')),
        ca: readFileSync(file('ca.crt')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        seen.push(socket.getPeerCertificate().subject?.CN);
        socket.end('hello\n');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sClient = (...extra: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('openssl', [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-CAfile',
          file('ca.crt'),
          '-verify_return_error',
          '-ign_eof',
          '-verify_hostname',
          'admin.example',
          ...extra,
        ]);
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.stdin.end();
        child.on('exit', (code) => resolve({ code, out }));
      });
    try {
      const ok = await sClient('-cert', file('ingest.crt'), '-key', file('ingest.key'));
      expect(ok.out).toContain('Verify return code: 0 (ok)');
      expect(ok.out).toContain('hello');
      expect(seen).toEqual(['ingest']);
      const anonymous = await sClient();
      expect(anonymous.out).not.toContain('hello');
      expect(anonymous.out).toMatch(/alert|error/i);
      const wrongName = await sClient(
        '-cert',
        file('ingest.crt'),
        '-key',
        file('ingest.key'),
        '-verify_hostname',
        'bus',
      );
      expect(wrongName.out).toMatch(/hostname mismatch/);
    } finally {
      server.close();
    }
  });
});
