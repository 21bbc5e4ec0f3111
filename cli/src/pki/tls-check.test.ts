// What a service checks in its certificate files before it starts (loadTls in @coffer/config),
// against certificates from the real issuer: each wrong file is refused with its reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTls, plaintextAllowed } from '@coffer/config';
import { afterAll, describe, expect, it } from 'vitest';
import { createRootCa, issueLeaf } from './certificates.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-tls-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const ca = await createRootCa({ name: 'check CA', days: 30 });
const otherCa = await createRootCa({ name: 'another CA', days: 30 });
const good = await issueLeaf(ca, { name: 'ingest', role: 'nats-client', days: 7 });
const expired = await issueLeaf(ca, {
  name: 'ingest',
  role: 'nats-client',
  days: 1,
  now: new Date(Date.now() - 10 * 86_400_000),
});
const foreign = await issueLeaf(otherCa, { name: 'ingest', role: 'nats-client', days: 7 });
const files = {
  ca: write('ca.crt', ca.certPem),
  cert: write('good.crt', good.certPem),
  key: write('good.key', good.keyPem),
  expired: write('expired.crt', expired.certPem),
  expiredKey: write('expired.key', expired.keyPem),
  foreign: write('foreign.crt', foreign.certPem),
  foreignKey: write('foreign.key', foreign.keyPem),
};

describe('loadTls', () => {
  it('returns the PEM text of a good set, and nothing when none is set', () => {
    expect(loadTls('NATS_TLS', { cert: files.cert, key: files.key, ca: files.ca })).toEqual({
      cert: good.certPem,
      key: good.keyPem,
      ca: ca.certPem,
    });
    expect(loadTls('NATS_TLS', { cert: '', key: '', ca: '' })).toBeUndefined();
  });

  it.each([
    [
      'a partial set',
      { cert: files.cert, key: '', ca: files.ca },
      /^NATS_TLS_CERT, NATS_TLS_KEY and NATS_TLS_CA must be set together$/,
    ],
    [
      'a missing file',
      { cert: path.join(dir, 'nope.crt'), key: files.key, ca: files.ca },
      /^NATS_TLS_CERT: cannot read .*nope\.crt \(ENOENT\)$/,
    ],
    [
      'an expired certificate',
      { cert: files.expired, key: files.expiredKey, ca: files.ca },
      /^NATS_TLS_CERT: the certificate \(.*CN=ingest.*\) expired on \d{4}-\d\d-\d\d$/,
    ],
    [
      'a certificate of another CA',
      { cert: files.foreign, key: files.foreignKey, ca: files.ca },
      /^NATS_TLS_CERT: the certificate is not signed by the CA in NATS_TLS_CA$/,
    ],
    [
      'a key of another certificate',
      { cert: files.cert, key: files.foreignKey, ca: files.ca },
      /^NATS_TLS_KEY: the key does not belong to NATS_TLS_CERT$/,
    ],
    [
      'a key file that is not a key',
      { cert: files.cert, key: files.ca, ca: files.ca },
      /^NATS_TLS_KEY: not a PEM private key/,
    ],
    [
      'a CA file that is not a certificate',
      { cert: files.cert, key: files.key, ca: files.key },
      /^NATS_TLS_CA: not a PEM certificate$/,
    ],
  ])('refuses %s with a one-line reason', (_label, paths, reason) => {
    expect(() => loadTls('NATS_TLS', paths)).toThrow(reason);
  });

  it('never puts key material in a reason', () => {
    try {
      loadTls('NATS_TLS', { cert: files.cert, key: files.foreignKey, ca: files.ca });
    } catch (err) {
      expect((err as Error).message).not.toContain('PRIVATE KEY');
    }
  });
});

describe('plaintextAllowed', () => {
  it('allows plaintext to this host only', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '/run/postgresql'])
      expect(plaintextAllowed(host)).toBe(true);
    for (const host of ['10.0.0.5', 'bus', 'db.internal', '0.0.0.0']) expect(plaintextAllowed(host)).toBe(false);
  });
});
