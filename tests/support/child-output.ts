/**
 * A long-running child process a test started: its output kept in memory (for a failure message
 * or a leak search), when it exited, and a stop that asks first and kills after a grace period.
 */
import type { ChildProcess } from 'node:child_process';

export interface Watched {
  readonly child: ChildProcess;
  /** stdout and stderr as they came, interleaved. */
  readonly output: string[];
  /** The exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** SIGTERM unless it has ended; SIGKILL when it has not exited 5 s later. */
  stop(): Promise<void>;
}

export function watchChild(child: ChildProcess): Watched {
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
