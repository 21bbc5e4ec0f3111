import { postgresAvailable } from '@coffer/testkit';
import { appendAudit, createVaultDatabase, type VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInProcess } from '../../testing/in-process.ts';
import { auditCommand } from './audit.ts';

const available = await postgresAvailable();

describe.skipIf(!available)('coffer audit verify', () => {
  let db: VaultDatabase;
  beforeAll(async () => {
    db = await createVaultDatabase();
    for (let i = 0; i < 5; i++) {
      await db.runtime.begin((tx) =>
        appendAudit(tx, { actor: 'a', action: 'record.reveal', target: `r${i}`, outcome: 'success' }),
      );
    }
    vi.stubEnv('DATABASE_URL', db.runtimeUrl);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await db?.drop();
  });

  const run = () => runInProcess(() => auditCommand(['verify']));

  it('reports an intact chain with its head', async () => {
    const { text, code } = await run();
    expect(text).toMatch(/^audit chain intact: 5 events, head [0-9a-f]{64}\n/);
    expect(text).toContain('no checkpoints checked');
    expect(code).toBeUndefined();
  });

  it('names the row a superuser edited, and exits 1', async () => {
    await db.owner`UPDATE audit_events SET target = 'r-other' WHERE seq = 3`;
    const { text, code } = await run();
    expect(text).toContain('BROKEN at event 3');
    expect(code).toBe(1);
  });
});
