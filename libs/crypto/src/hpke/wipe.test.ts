/**
 * After a context is destroyed, none of the secrets of its key schedule may be left in Node's shared
 * Buffer pool, where wipe() cannot reach them. This file runs alone so that no other test has put
 * the same bytes in the pool; the expected values are built outside the pool for the same reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import { COFFER_SUITE, setupRecipient, setupSender } from './hpke.ts';

const v = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'cfrg-x25519-sha256-aes256gcm.json'), 'utf8'));
const unpooled = (hex: string) => {
  const b = Buffer.alloc(hex.length / 2);
  b.write(hex, 'hex');
  return b;
};
const secrets = ['key', 'base_nonce', 'shared_secret', 'secret', 'exporter_secret'] as const;

function inPool(): Record<string, boolean> {
  const pool = Buffer.allocUnsafe(1).buffer;
  const snapshot = Buffer.alloc(pool.byteLength);
  Buffer.from(pool).copy(snapshot);
  return Object.fromEntries(secrets.map((name) => [name, snapshot.includes(unpooled(v[name]))]));
}
const nowhere = Object.fromEntries(secrets.map((name) => [name, false]));

describe('HPKE secrets after destroy()', () => {
  it('are not left in the Buffer pool by the recipient', () => {
    const recipient = PrivateKey.fromBytes('x25519', unpooled(v.skRm));
    const context = setupRecipient(COFFER_SUITE, unpooled(v.enc), recipient, unpooled(v.info));
    const [first] = v.encryptions;
    expect(context.open(unpooled(first.aad), unpooled(first.ct)).equals(unpooled(first.pt))).toBe(true);
    context.destroy();
    expect(inPool()).toEqual(nowhere);
  });

  it('are not left in the Buffer pool by the sender', () => {
    const recipient = PrivateKey.fromBytes('x25519', unpooled(v.skRm)).publicKey;
    const ephemeral = PrivateKey.fromBytes('x25519', unpooled(v.skEm));
    const { context } = setupSender(COFFER_SUITE, recipient, unpooled(v.info), ephemeral);
    const [first] = v.encryptions;
    expect(context.seal(unpooled(first.aad), unpooled(first.pt)).equals(unpooled(first.ct))).toBe(true);
    context.destroy();
    expect(inPool()).toEqual(nowhere);
  });
});
