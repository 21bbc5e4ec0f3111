// `pnpm build` and `pnpm deploy:service` give each service a folder that runs with plain
// `node dist/main.js` — no tsx, no sources, no dev dependencies — and answers /healthz.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  createTestDatabase,
  freePort,
  natsForTests,
  postgresAvailable,
  prepareRuntimeRole,
  type TestDatabase,
  uniqueNamespace,
} from '@coffer/testkit';
import { migrate } from '@coffer/vault';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndDeploy, type Deployed, type Started, startDeployed } from '../support/deployed.ts';
import { getStatus, waitFor } from '../support/http.ts';

const natsUrl = await natsForTests();
const ready = natsUrl !== undefined && (await postgresAvailable());

describe.skipIf(!ready)('deployed folders', () => {
  let deployed: Deployed;
  let db: TestDatabase;
  const started: Started[] = [];
  const trustRoot = (generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string) ?? '';

  beforeAll(async () => {
    deployed = await buildAndDeploy(['ingest', 'vault', 'admin', 'cli']);
    db = await createTestDatabase();
    const owner = postgres(db.ownerUrl, { max: 1, onnotice: () => {} });
    await migrate(owner);
    await owner.end();
    await prepareRuntimeRole(db);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    await db?.drop();
    await deployed?.remove();
  });

  it('holds only the bundle and production dependencies', () => {
    for (const service of ['ingest', 'vault', 'admin'] as const) {
      const dir = deployed.dirs[service];
      expect(existsSync(path.join(dir, 'dist/main.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'src'))).toBe(false);
      expect(existsSync(path.join(dir, 'node_modules/tsx'))).toBe(false);
      expect(existsSync(path.join(dir, 'node_modules/vitest'))).toBe(false);
      expect(existsSync(path.join(dir, 'node_modules/@coffer/testkit'))).toBe(false);
    }
    expect(existsSync(path.join(deployed.dirs.cli, 'dist/migrations'))).toBe(true);
  });

  it.each(['vault', 'ingest', 'admin'] as const)(
    '%s starts with node dist/main.js and answers /healthz',
    async (service) => {
      const port = await freePort();
      const env: Record<string, string> = {
        NATS_URL: natsUrl as string,
        COFFER_BUS_NAMESPACE: uniqueNamespace(),
        HOST: '127.0.0.1',
        PORT: String(port),
        ...(service === 'vault' ? { DATABASE_URL: db.runtimeUrl } : { COFFER_TRUST_ROOT: trustRoot }),
      };
      const s = startDeployed(deployed.dirs[service], env);
      started.push(s);
      const state = await waitFor(
        `${service} /healthz`,
        async () =>
          s.child.exitCode !== null
            ? 'exited'
            : (await getStatus(`http://127.0.0.1:${port}/healthz`)) === 200 && 'live',
        30_000,
      );
      expect(state, s.output.join('')).toBe('live');
    },
  );

  it('runs the CLI from its folder', async () => {
    const s = startDeployed(deployed.dirs.cli, {});
    expect(await s.exited).toBe(0);
    expect(s.output.join('')).toMatch(/usage: .*coffer <command>/);
  });
});
