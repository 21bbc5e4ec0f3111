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
  let output: string[] = [];
  const started = await startListening({
    name: plane,
    entry: `services/${plane}/src/main.ts`,
    env: (port) => ({ PATH: process.env.PATH ?? '', HOST, PORT: String(port), ...env }),
    output: () => {
      output = [];
      return output;
    },
    path: options.ready === 'healthz' ? '/healthz' : '/readyz',
    timeoutMs: options.timeoutMs ?? 90_000,
    said: true,
  });
  return { plane, output, ...started };
}

export interface Listening {
  readonly pid: number;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

interface ListenOptions {
  readonly name: string;
  /** The service's main module, run under tsx from the repository root. */
  readonly entry: string;
  readonly env: (port: number) => NodeJS.ProcessEnv;
  /** Where this attempt's output goes. */
  readonly output: () => string[];
  /** Ready when this path answers 200. */
  readonly path: string;
  readonly timeoutMs: number;
  /** Add the tail of the output to a start-up failure. */
  readonly said?: boolean;
}

/**
 * Start a service under tsx; resolves once the child answers `path` with 200 and holds its port
 * itself. freePort's port is free only until it is let go, and a service under tsx takes seconds
 * to listen: another process on the machine (another suite's test) may bind it first. Then start
 * again on another port.
 */
export async function startListening(o: ListenOptions): Promise<Listening> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(o, await freePort());
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 5) throw err;
    }
  }
}

async function launch(o: ListenOptions, port: number): Promise<Listening> {
  const child = spawn(process.execPath, ['--import', 'tsx', o.entry], {
    cwd: ROOT,
    env: o.env(port),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output = o.output();
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
  try {
    const state = await waitFor(
      `${o.name} to answer ${o.path} with 200`,
      // The child itself must hold the port: another process that took it may answer too.
      async () =>
        gone ? 'exited' : (await getStatus(`${url}${o.path}`)) === 200 && (await listensOn(child.pid as number, port)),
      o.timeoutMs,
    );
    if (state === 'exited') {
      await closed;
      const said = output.join('');
      if (portTaken(said)) throw new PortTaken(`${o.name}: port ${port} was taken`);
      throw new Error(`${o.name} exited during start-up:\n${said.slice(-2000)}`);
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    if (err instanceof PortTaken || !o.said) throw err;
    throw new Error(`${(err as Error).message}\n${o.name} said:\n${output.join('').slice(-1500)}`);
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
