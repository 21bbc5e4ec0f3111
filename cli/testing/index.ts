/**
 * For the CLI's tests and the cross-service tests that drive it: the real `coffer` CLI as its own
 * process under tsx, as an operator's script runs it (no terminal, standard input a pipe closed
 * after `input`, if any), and a bare vault for `coffer init` to bootstrap.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectNatsBus } from '@coffer/bus';
import { busNames } from '@coffer/protocol';
import { natsForTests, uniqueNamespace } from '@coffer/testkit';
import { startVault, type Vault } from '@coffer/vault';
import { createVaultDatabase, type VaultDatabase } from '@coffer/vault/testing';
import pino from 'pino';

export { runInProcess } from './in-process.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export interface CofferRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCoffer(
  args: string[],
  o: { env?: Record<string, string>; input?: string } = {},
): Promise<CofferRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], {
      env: { ...process.env, ...o.env },
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => {
      stdout += c;
    });
    child.stderr?.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

/**
 * A vault with no org yet, on a fresh database and a bus namespace of its own: what `coffer init`
 * runs against. `env` points a CLI process at it.
 */
export async function startBareVault(): Promise<{
  readonly db: VaultDatabase;
  readonly vault: Vault;
  readonly url: string;
  readonly namespace: string;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}> {
  const url = (await natsForTests()) as string;
  const namespace = uniqueNamespace();
  const db = await createVaultDatabase();
  const vaultBus = await connectNatsBus({ url, names: busNames(namespace), service: 'vault' });
  const vault = await startVault({
    sql: db.runtime,
    bus: vaultBus,
    log: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
  });
  return {
    db,
    vault,
    url,
    namespace,
    env: { NATS_URL: url, COFFER_BUS_NAMESPACE: namespace },
    async close() {
      await vault.close();
      await vaultBus.close();
      await db.drop();
    },
  };
}
