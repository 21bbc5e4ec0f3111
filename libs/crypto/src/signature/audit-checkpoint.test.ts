import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCryptoError, PrivateKey } from '../index.ts';
import {
  decodeSigningKeyFile,
  encodeSigningKeyFile,
  signAuditCheckpoint,
  verifyAuditCheckpoint,
} from './audit-checkpoint.ts';

const vector = JSON.parse(readFileSync(new URL('./vectors/audit-checkpoint-v1.json', import.meta.url), 'utf8'));
const vectorKey = PrivateKey.fromBytes('ed25519', Buffer.from(vector.privateKey, 'hex'));
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return isCryptoError(err) ? err.code : String(err);
  }
};

describe('audit checkpoints v1', () => {
  it('signs the known answer exactly (Ed25519 is deterministic) and verifies it', () => {
    const { seq, hash, at } = vector.checkpoint;
    expect(signAuditCheckpoint(vectorKey, { seq, hash, at })).toEqual(vector.checkpoint);
    expect(verifyAuditCheckpoint(vector.checkpoint, vectorKey.publicKey)).toEqual({ seq, hash, at });
  });

  it('refuses another key, and every altered field', () => {
    const other = PrivateKey.generate('ed25519');
    const cp = vector.checkpoint;
    expect(code(() => verifyAuditCheckpoint(cp, other.publicKey))).toBe('BadSignature');
    // Signed by another key that claims to be the pinned one.
    const forged = { ...signAuditCheckpoint(other, cp), key: cp.key };
    expect(code(() => verifyAuditCheckpoint(forged, vectorKey.publicKey))).toBe('BadSignature');
    for (const change of [{ seq: 41 }, { seq: 43 }, { hash: 'ac'.repeat(32) }, { at: '2026-12-02T01:00:00.001Z' }]) {
      expect(code(() => verifyAuditCheckpoint({ ...cp, ...change }, vectorKey.publicKey))).toBe('BadSignature');
    }
    expect(code(() => verifyAuditCheckpoint({ ...cp, v: 2 }, vectorKey.publicKey))).toBe('UnsupportedVersion');
    for (const bad of [{ seq: 0 }, { seq: 1.5 }, { hash: 'AB'.repeat(32) }, { at: '2026-02-30T00:00:00.000Z' }]) {
      expect(code(() => verifyAuditCheckpoint({ ...cp, ...bad }, vectorKey.publicKey))).toBe('InvalidBundle');
    }
    expect(code(() => verifyAuditCheckpoint(null, vectorKey.publicKey))).toBe('InvalidBundle');
  });

  it('keeps the signing key in a versioned file that round-trips and refuses anything else', () => {
    const key = PrivateKey.generate('ed25519');
    const text = encodeSigningKeyFile(key);
    expect(decodeSigningKeyFile(text).publicKey.equals(key.publicKey)).toBe(true);
    expect(code(() => decodeSigningKeyFile('{"v":2}'))).toBe('Malformed');
    expect(code(() => decodeSigningKeyFile('not json'))).toBe('Malformed');
    expect(String(decodeSigningKeyFile(text))).not.toContain(JSON.parse(text).privateKey);
  });
});
