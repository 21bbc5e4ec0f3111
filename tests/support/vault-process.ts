// The vault as its own OS process (services/vault/src/main.ts under tsx), so a test can SIGKILL it
// the way a host or container dies: no close(), no ack, no transaction commit.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@coffer/testkit';
import { getStatus, waitFor } from './http.ts';
import { listensOn } from './ports.ts';
import { PortTaken, portTaken } from './service-process.ts';
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
  // freePort's port is free only until it is let go, and the vault under tsx takes seconds to
  // listen: another process on the machine (another suite's test) may bind it first. Then start
  // again on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(infra, name, await freePort());
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 5) throw err;
    }
  }
}

async function launch(infra: Infra, name: string, port: number): Promise<VaultProcess> {
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
  // 'exit' can come before the last output: the port check reads it all, after 'close'.
  const closed = new Promise((resolve) => child.once('close', resolve));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const url = `http://${HOST}:${port}`;
  try {
    const state = await waitFor(
      `${name} to answer /readyz with 200`,
      // The child itself must hold the port: another process that took it may answer too.
      async () =>
        gone ? 'exited' : (await getStatus(`${url}/readyz`)) === 200 && (await listensOn(child.pid as number, port)),
      // As for the planes (service-process.ts): tsx compiles the vault first, which takes well
      // over 30 s on a loaded machine (a vault start timed out at 30 s here, under load).
      90_000,
    );
    if (state === 'exited') {
      await closed;
      const said = output.lines.join('');
      if (portTaken(said)) throw new PortTaken(`${name}: port ${port} was taken`);
      throw new Error(`${name} exited during start-up:\n${said.slice(-2000)}`);
    }
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
