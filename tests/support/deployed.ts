// The production artefacts for tests: `pnpm build`, then one `pnpm deploy:service` folder per
// service, exactly what an operator copies to a host or into an image.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './stack.ts';

const run = promisify(execFile);
export type Deployable = 'ingest' | 'vault' | 'admin' | 'cli';

export interface Deployed {
  /** The folder of each deployed service: run `node dist/main.js` inside it. */
  readonly dirs: Readonly<Record<Deployable, string>>;
  remove(): Promise<void>;
}

export async function buildAndDeploy(services: readonly Deployable[]): Promise<Deployed> {
  await run(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
  const base = await mkdtemp(path.join(os.tmpdir(), 'coffer-deploy-'));
  const dirs = {} as Record<Deployable, string>;
  try {
    // One at a time: pnpm deploy links from one store, and two at once only contend for 2 cores.
    for (const service of services) {
      dirs[service] = path.join(base, service);
      await run(process.execPath, [path.join(ROOT, 'scripts/deploy.mjs'), service, dirs[service]], { cwd: ROOT });
    }
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw err;
  }
  return { dirs, remove: () => rm(base, { recursive: true, force: true }) };
}

export interface Started {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `node dist/main.js` in a deployed folder, with only the given environment (plus PATH). */
export function startDeployed(
  dir: string,
  env: Record<string, string>,
  command: readonly string[] = [],
  spawnWith: (argv: string[]) => [string, string[]] = (argv) => [argv[0] as string, argv.slice(1)],
): Started {
  const [file, args] = spawnWith([...command, process.execPath, 'dist/main.js']);
  const child = spawn(file, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
