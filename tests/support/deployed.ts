// The production artefacts for tests: `pnpm build`, then one `pnpm deploy:service` folder per
// service, exactly what an operator copies to a host or into an image.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Watched, watchChild } from './child-output.ts';
import { ROOT } from './stack.ts';

const run = promisify(execFile);
export type Deployable = 'ingest' | 'vault' | 'admin' | 'cli';

export interface Deployed {
  /** The folder of each deployed service: run `node dist/main.js` inside it. */
  readonly dirs: Readonly<Record<Deployable, string>>;
  remove(): Promise<void>;
}

/**
 * Test files run in parallel workers, and a build rewrites the dist/ another one may be deploying
 * from: one build-and-deploy at a time, across processes (a lock directory, taken over when the
 * process that made it is gone).
 */
async function exclusively<T>(step: () => Promise<T>): Promise<T> {
  const lock = path.join(ROOT, 'node_modules', '.coffer-build-lock');
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => '0'));
      let alive = owner === 0; // being written this instant: wait
      try {
        if (owner) process.kill(owner, 0);
        alive = true;
      } catch {
        // its owner died holding it
      }
      if (!alive) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} held for 10 minutes`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await step();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export function buildAndDeploy(services: readonly Deployable[]): Promise<Deployed> {
  return exclusively(() => deploy(services));
}

async function deploy(services: readonly Deployable[]): Promise<Deployed> {
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

export type Started = Watched;

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
  process.once('exit', () => child.kill('SIGKILL'));
  return watchChild(child);
}
