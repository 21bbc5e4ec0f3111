// The vault's PostgreSQL TLS options (databaseSsl) against real TLS servers: verify-full accepts
// only a certificate from the configured CA naming the host in DATABASE_URL, so an impostor on
// the database's address — another CA, or the right CA but another name — gets no connection.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { loadTls } from '@coffer/config';
import { databaseSsl } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from './support/pki.ts';

describe('the vault connects to PostgreSQL verify-full', () => {
  let pki: TestPki;
  let other: TestPki;
  let client: ReturnType<typeof loadTls>;

  beforeAll(async () => {
    [pki, other] = await Promise.all([makeTestPki(), makeTestPki()]);
    const vault = await pki.issue({ name: 'coffer_vault', role: 'pg-client' });
    client = loadTls('DATABASE_SSL', { ...vault, ca: pki.ca });
  }, 60_000);
  afterAll(async () => {
    await pki?.remove();
    await other?.remove();
  });

  /** A TLS server presenting `files`; resolves with how a connection made with `url`'s options ends. */
  async function handshake(files: { cert: string; key: string }, url: string) {
    const seen: string[] = [];
    const server = tls.createServer(
      { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(pki.ca), requestCert: true },
      (socket) => {
        seen.push(String(socket.getPeerCertificate().subject?.CN));
        socket.end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const options = databaseSsl(url, client) as tls.ConnectionOptions;
      return await new Promise<string>((resolve) => {
        // As postgres.js does: an open TCP socket handed to tls.connect, without the host.
        const socket = tls.connect({ ...options, host: '127.0.0.1', port });
        socket.once('secureConnect', () => {
          socket.end();
          resolve('connected');
        });
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    } finally {
      server.close();
    }
  }

  it('connects to the database certificate for the host it dials, and presents its own', async () => {
    const db = await pki.issue({ name: 'database', role: 'pg-server', ips: ['127.0.0.1'] });
    expect(await handshake(db, 'postgres://coffer_vault@127.0.0.1:5432/coffer?sslmode=verify-full')).toBe('connected');
  });

  it('refuses a server certificate for another name, even from the right CA', async () => {
    const elsewhere = await pki.issue({ name: 'elsewhere', role: 'pg-server' });
    expect(await handshake(elsewhere, 'postgres://coffer_vault@127.0.0.1:5432/coffer')).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
  });

  it('refuses a server certificate from another CA', async () => {
    const impostor = await other.issue({ name: 'database', role: 'pg-server', ips: ['127.0.0.1'] });
    expect(await handshake(impostor, 'postgres://coffer_vault@127.0.0.1:5432/coffer')).toBe(
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });

  it('refuses a weaker sslmode with certificates, and plaintext to another host', () => {
    expect(() => databaseSsl('postgres://coffer_vault@db.internal/coffer?sslmode=require', client)).toThrow(
      /sslmode=require; with DATABASE_SSL_\* the vault uses verify-full only/,
    );
    expect(() => databaseSsl('postgres://coffer_vault@db.internal/coffer', undefined)).toThrow(/not this host/);
    expect(databaseSsl('postgres://coffer_vault@127.0.0.1/coffer', undefined)).toBeUndefined();
  });
});
