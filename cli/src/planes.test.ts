import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '@coffer/bus';
import { PrivateKey } from '@coffer/crypto';
import { postgresAvailable } from '@coffer/testkit';
import { createVaultDatabase, type VaultDatabase } from '@coffer/vault/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Planes, startPlanes } from './planes.ts';
import { pinTrustRoot, readPinnedTrustRoot } from './trust-root-pin.ts';

const available = await postgresAvailable();
const silent = pino({ level: 'silent' });

describe.skipIf(!available)('the planes pin their trust root instead of asking the vault', () => {
  let db: VaultDatabase;
  let first: Planes;
  const start = (trustRoot?: string) => {
    const bus = new InProcessBus();
    return startPlanes({
      sql: db.runtime,
      buses: { vault: bus, ingest: bus, admin: bus },
      logs: { vault: silent, ingest: silent, admin: silent },
      host: '127.0.0.1',
      ingestPort: 0,
      vaultPort: 0,
      ...(trustRoot ? { trustRoot } : {}),
      bootstrap: {
        adminEmail: 'ka@example.com',
        adminPassword: 'correct-quartz-lantern-harbour-91',
        shares: 3,
        threshold: 2,
        dataKeyDays: 90,
        horizonDays: 90,
        suite: 'x25519',
      },
    });
  };
  beforeAll(async () => {
    db = await createVaultDatabase();
    first = await start();
    await first.close();
  });
  afterAll(() => db?.drop());

  it('takes the trust root from the ceremony it ran, and starts again with it pinned', async () => {
    expect(first.ceremony?.trustRoot).toBe(first.trustRoot);
    const again = await start(first.trustRoot);
    expect(again.ceremony).toBeUndefined();
    await again.close();
  });

  it('refuses to start on an initialised vault with nothing pinned', async () => {
    await expect(start()).rejects.toThrow(/no pinned trust root/);
  });

  it('refuses a vault whose org row a database writer changed', async () => {
    const [org] = await db.owner<{ trust_root: string }[]>`SELECT trust_root FROM org`;
    const forged = PrivateKey.generate('ed25519').publicKey.toBase64url();
    await db.owner`UPDATE org SET trust_root = ${forged}`;
    try {
      await expect(start(first.trustRoot)).rejects.toThrow(/other than the pinned one/);
    } finally {
      await db.owner`UPDATE org SET trust_root = ${org?.trust_root ?? ''}`;
    }
  });
});

describe('the dev pin file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-pin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = PrivateKey.generate('ed25519').publicKey.toBase64url();

  it('is written once, readable by its owner only, and refuses another key', () => {
    expect(readPinnedTrustRoot(dir)).toBeUndefined();
    pinTrustRoot(dir, root);
    expect(readFileSync(join(dir, 'trust-root'), 'utf8').trim()).toBe(root);
    expect(statSync(join(dir, 'trust-root')).mode & 0o777).toBe(0o600);
    expect(readPinnedTrustRoot(dir)).toBe(root);
    pinTrustRoot(dir, root);
    expect(() => pinTrustRoot(dir, PrivateKey.generate('ed25519').publicKey.toBase64url())).toThrow(/another/);
  });

  it('refuses a pin file that holds no key', () => {
    writeFileSync(join(dir, 'trust-root'), 'not-a-key\n');
    expect(() => readPinnedTrustRoot(dir)).toThrow(/does not hold an org public key/);
  });
});
