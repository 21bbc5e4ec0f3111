import { postgresAvailable } from '@coffer/testkit';
import { appendAudit, createVaultDatabase, type VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  const run = async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      out.push(String(c));
      return true;
    });
    process.exitCode = undefined;
    try {
      await auditCommand(['verify']);
    } finally {
      spy.mockRestore();
    }
    const code = process.exitCode;
    process.exitCode = undefined;
    return { text: out.join(''), code };
  };

  it('reports an intact chain with its head', async () => {
    const { text, code } = await run();
    expect(text).toMatch(/^audit log intact: 5 events, head [0-9a-f]{64}\n$/);
    expect(code).toBeUndefined();
  });

  it('names the row a superuser edited, and exits 1', async () => {
    await db.owner`UPDATE audit_events SET target = 'r-other' WHERE seq = 3`;
    const { text, code } = await run();
    expect(text).toContain('BROKEN at event 3');
    expect(code).toBe(1);
  });
});
