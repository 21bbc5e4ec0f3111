/**
 * The real `coffer` CLI as its own process under tsx, for the tests that run it as an operator's
 * script would: no terminal, standard input a pipe (closed after `input`, if any).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
