/**
 * Certificate files for mutual TLS, read and checked at start-up: a service refuses to start with
 * a certificate that is expired, not yet valid, not signed by the configured CA, or not matching
 * its key — one line naming the variable and the reason — rather than fail on the first handshake.
 *
 * Three links, three prefixes, each CERT/KEY/CA (PEM file paths, all three or none):
 *   COFFER_TLS_*    the HTTPS server of ingest and admin
 *   NATS_TLS_*      the bus client certificate (the plane's NATS identity) and the bus CA
 *   DATABASE_SSL_*  the vault's PostgreSQL client certificate and the database CA
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { asString, type Setting, setting } from './settings.ts';

export type TlsPrefix = 'COFFER_TLS' | 'NATS_TLS' | 'DATABASE_SSL';

export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** PEM text of a checked certificate, its key and the CA that signed it. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export function tlsSettings(prefix: TlsPrefix, what: string): { [K in keyof TlsPaths]: Setting<string> } {
  return {
    cert: setting(`${prefix}_CERT`, `certificate file (PEM) ${what}`, asString, ''),
    key: setting(`${prefix}_KEY`, `private key file (PEM) of ${prefix}_CERT`, asString, ''),
    ca: setting(`${prefix}_CA`, `CA certificate file (PEM) ${what} trusts`, asString, ''),
  };
}

function read(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parse(variable: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new Error(`${variable}: not a PEM certificate`);
  }
}

const day = (d: string) => new Date(d).toISOString().slice(0, 10);

function checkDates(variable: string, cert: X509Certificate, now: Date): void {
  const subject = cert.subject.replace(/\n/g, ', ');
  if (new Date(cert.validTo) <= now)
    throw new Error(`${variable}: the certificate (${subject}) expired on ${day(cert.validTo)}`);
  if (new Date(cert.validFrom) > now) {
    throw new Error(`${variable}: the certificate (${subject}) is not valid before ${day(cert.validFrom)}`);
  }
}

/**
 * Read and check one link's files. Undefined when none of the three is set (plaintext: only for
 * a loopback peer, see `plaintextAllowed`); throws an Error with a one-line reason otherwise.
 */
export function loadTls(prefix: TlsPrefix, paths: TlsPaths, now = new Date()): TlsMaterial | undefined {
  const set = [paths.cert, paths.key, paths.ca].filter((p) => p !== '').length;
  if (set === 0) return undefined;
  if (set !== 3) throw new Error(`${prefix}_CERT, ${prefix}_KEY and ${prefix}_CA must be set together`);
  const material = {
    cert: read(`${prefix}_CERT`, paths.cert),
    key: read(`${prefix}_KEY`, paths.key),
    ca: read(`${prefix}_CA`, paths.ca),
  };
  const cert = parse(`${prefix}_CERT`, material.cert);
  const ca = parse(`${prefix}_CA`, material.ca);
  checkDates(`${prefix}_CA`, ca, now);
  checkDates(`${prefix}_CERT`, cert, now);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new Error(`${prefix}_CERT: the certificate is not signed by the CA in ${prefix}_CA`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(material.key);
  } catch {
    throw new Error(`${prefix}_KEY: not a PEM private key (an encrypted key is not supported)`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error(`${prefix}_KEY: the key does not belong to ${prefix}_CERT`);
  return material;
}

/**
 * Whether a link may run without TLS: only to this host (loopback or a Unix socket), which is what
 * `pnpm dev` and single-host tests use. Anything crossing a network must be mutual TLS.
 */
export function plaintextAllowed(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h.startsWith('/') || h === '';
}
