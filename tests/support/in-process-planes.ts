/**
 * Every plane in this test process (the CLI's startPlanes, as `coffer dev` runs them) on a fresh
 * database and a bus namespace of its own, bootstrapped with key-admin KA_EMAIL: what the rotation
 * and X-Wing tests start. Logs are silent unless TEST_LOG names a level.
 */
import { type Bus, connectNatsBus } from '@coffer/bus';
import { type Planes, startPlanes } from '@coffer/cli';
import { busNames } from '@coffer/protocol';
import { natsForTests, uniqueNamespace } from '@coffer/testkit';
import { createVaultDatabase, type VaultDatabase } from '@coffer/vault/testing';
import pino from 'pino';
import { expect } from 'vitest';

export const KA_EMAIL = 'ka@example.com';
export const KA_PASSWORD = 'correct-quartz-lantern-harbour-91';

export interface InProcessPlanes {
  readonly db: VaultDatabase;
  readonly planes: Planes;
  /** Each plane's own bus connection (a test may publish as ingest does). */
  readonly buses: { vault: Bus; ingest: Bus; admin: Bus };
  /** POST /v1/records of a secret; expects 202. */
  submit(value: string): Promise<{ id: string; keyId: string }>;
  close(): Promise<void>;
}

export async function startInProcessPlanes(o: {
  suite: 'x25519' | 'xwing';
  dataKeyDays: number;
  horizonDays: number;
  /** One clock for every plane (default: the real one). */
  now?: () => Date;
}): Promise<InProcessPlanes> {
  const url = (await natsForTests()) as string;
  const names = busNames(uniqueNamespace());
  const db = await createVaultDatabase();
  const buses: Bus[] = [];
  let planes: Planes | undefined;
  const close = async () => {
    await planes?.close();
    for (const bus of buses) await bus.close();
    await db.drop();
  };
  try {
    for (const service of ['vault', 'ingest', 'admin'] as const)
      buses.push(await connectNatsBus({ url, names, service }));
    const [vault, ingest, admin] = buses as [Bus, Bus, Bus];
    const silent = pino({ level: process.env.TEST_LOG ?? 'silent' });
    planes = await startPlanes({
      sql: db.runtime,
      buses: { vault, ingest, admin },
      logs: { vault: silent, ingest: silent, admin: silent },
      host: '127.0.0.1',
      ingestPort: 0,
      vaultPort: 0,
      adminPort: 0,
      bootstrap: {
        adminEmail: KA_EMAIL,
        adminPassword: KA_PASSWORD,
        shares: 3,
        threshold: 2,
        dataKeyDays: o.dataKeyDays,
        horizonDays: o.horizonDays,
        suite: o.suite,
      },
      ratePerMinute: 100_000,
      ...(o.now ? { now: o.now } : {}),
    });
  } catch (err) {
    await close();
    throw err;
  }
  const started = planes;
  const [vault, ingest, admin] = buses as [Bus, Bus, Bus];
  return {
    db,
    planes: started,
    buses: { vault, ingest, admin },
    async submit(value) {
      const res = await fetch(`${started.ingestUrl}/v1/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'secret', value }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as { id: string; keyId: string };
    },
    close,
  };
}
