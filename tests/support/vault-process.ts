// The vault as its own OS process (services/vault/src/main.ts under tsx), so a test can SIGKILL it
// the way a host or container dies: no close(), no ack, no transaction commit.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@coffer/testkit';
import { getStatus, waitFor } from './http.ts';
import { HOST, type Infra, ROOT } from './stack.ts';

export interface VaultProcess {
  readonly pid: number;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test that fails half-way must not leave a vault running after vitest is done.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startVaultProcess(infra: Infra, name: string): Promise<VaultProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: infra.runtimeUrl,
    NATS_URL: infra.nats.url,
    NATS_USER: 'vault',
    NATS_PASSWORD: infra.passwords.vault,
    HOST,
    PORT: String(port),
  };
  delete env.COFFER_BUS_NAMESPACE;
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/vault/src/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output = infra.capture(name);
  child.stdout?.on('data', (chunk: Buffer) => output.lines.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => output.lines.push(chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const url = `http://${HOST}:${port}`;
  try {
    const state = await waitFor(
      `${name} to answer /readyz with 200`,
      async () => (gone ? 'exited' : (await getStatus(`${url}/readyz`)) === 200 && 'ready'),
      30_000,
    );
    if (state === 'exited') throw new Error(`${name} exited during start-up:\n${output.lines.join('').slice(-2000)}`);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    pid: child.pid as number,
    url,
    exited,
    async kill(signal) {
      if (!gone) child.kill(signal);
      await exited;
    },
  };
}
