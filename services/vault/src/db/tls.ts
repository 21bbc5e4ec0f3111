/**
 * The vault's PostgreSQL link: with DATABASE_SSL_* it is libpq's sslmode=verify-full plus a client
 * certificate — the server's certificate must chain to DATABASE_SSL_CA and name the host in
 * DATABASE_URL, and the vault proves itself with its own certificate (pg_hba `hostssl … cert
 * clientcert=verify-full`). Without them, only a database on this host is accepted (pnpm dev).
 */
import { isIP } from 'node:net';
import { type ConnectionOptions, checkServerIdentity } from 'node:tls';
import { plaintextAllowed, type TlsMaterial } from '@coffer/config';

export function databaseSsl(databaseUrl: string, tls: TlsMaterial | undefined): ConnectionOptions | undefined {
  const url = new URL(databaseUrl);
  // libpq-style `?host=/run/postgresql` (a Unix socket directory) is local by definition.
  const host = url.searchParams.get('host') ?? url.hostname.replace(/^\[|\]$/g, '');
  const mode = url.searchParams.get('sslmode');
  if (!tls) {
    if (!plaintextAllowed(host)) {
      throw new Error(
        `DATABASE_URL points at ${host}, not this host: set DATABASE_SSL_CERT, DATABASE_SSL_KEY and DATABASE_SSL_CA`,
      );
    }
    return undefined;
  }
  if (mode !== null && mode !== 'verify-full') {
    throw new Error(`DATABASE_URL has sslmode=${mode}; with DATABASE_SSL_* the vault uses verify-full only`);
  }
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    ...(isIP(host) ? {} : { servername: host }),
    // postgres.js hands tls.connect an open socket without the host, so name it here: the
    // certificate must be for the host in DATABASE_URL (verify-full), by DNS name or IP address.
    checkServerIdentity: (_servername, cert) => checkServerIdentity(host, cert),
  };
}
