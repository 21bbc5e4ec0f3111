// Any plane as its own OS process (services/<plane>/src/main.ts under tsx), with the environment
// a deployment gives it, so that a test can SIGKILL one replica the way a pod or host dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@coffer/testkit';
import { getStatus, waitFor } from './http.ts';
import { listensOn } from './ports.ts';
import { HOST, ROOT } from './stack.ts';

export type Plane = 'ingest' | 'vault' | 'admin';

export interface PlaneProcess {
  readonly plane: Plane;
  readonly pid: number;
  readonly url: string;
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

interface StartOptions {
  ready?: 'readyz' | 'healthz';
  timeoutMs?: number;
}

/** The child could not listen: the port freePort handed out was bound by another process first. */
export class PortTaken extends Error {}
export const portTaken = (output: string): boolean => /EADDRINUSE|address already in use/i.test(output);

/** Start one plane; resolves once its /readyz answers 200 (or `ready: 'healthz'` for /healthz). */
export async function startPlaneProcess(
  plane: Plane,
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<PlaneProcess> {
  // freePort's port is free only until it is let go, and a plane under tsx takes seconds to
  // listen: another process on the machine (another suite's test) may bind it first. Then start
  // again on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(plane, env, options, await freePort());
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 5) throw err;
    }
  }
}

async function launch(
  plane: Plane,
  env: Record<string, string>,
  options: StartOptions,
  port: number,
): Promise<PlaneProcess> {
  const full: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOST, PORT: String(port), ...env };
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${plane}/src/main.ts`], {
    cwd: ROOT,
    env: full,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
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
  const path = options.ready === 'healthz' ? '/healthz' : '/readyz';
  try {
    const state = await waitFor(
      `${plane} to answer ${path} with 200`,
      // The child itself must hold the port: another process that took it may answer too.
      async () =>
        gone ? 'exited' : (await getStatus(`${url}${path}`)) === 200 && (await listensOn(child.pid as number, port)),
      options.timeoutMs ?? 90_000,
    );
    if (state === 'exited') {
      await closed;
      const said = output.join('');
      if (portTaken(said)) throw new PortTaken(`${plane}: port ${port} was taken`);
      throw new Error(`${plane} exited during start-up:\n${said.slice(-2000)}`);
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    if (err instanceof PortTaken) throw err;
    throw new Error(`${(err as Error).message}\n${plane} said:\n${output.join('').slice(-1500)}`);
  }
  return {
    plane,
    pid: child.pid as number,
    url,
    output,
    exited,
    async kill(signal) {
      if (!gone) child.kill(signal);
      await exited;
    },
  };
}
