/**
 * Helpers for bench/reveal.bench.ts: percentiles, CPU accounting across this process, PostgreSQL
 * and nats-server (from /proc), and a throwaway GnuPG RSA-3072 key for the pgcrypto baseline.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Nearest-rank percentile (p in 0..100) of the samples. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Run `op` `warm` times untimed, then `n` times timed; milliseconds per call. */
export async function sample(n: number, warm: number, op: () => unknown): Promise<number[]> {
  for (let i = 0; i < warm; i++) await op();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Time several operations round-robin (each once per round, `warm` untimed rounds first), so
 * that drift in machine load falls on all of them alike; milliseconds per call, by name.
 */
export async function interleaved(
  n: number,
  warm: number,
  ops: Record<string, () => unknown>,
): Promise<Record<string, number[]>> {
  const names = Object.keys(ops);
  const out: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let round = 0; round < warm + n; round++) {
    for (const name of names) {
      const t0 = performance.now();
      await (ops[name] as () => unknown)();
      if (round >= warm) out[name]?.push(performance.now() - t0);
    }
  }
  return out;
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) so far of every process named `comm`, by pid, from /proc. */
function processCpu(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== comm) continue;
    // After "pid (comm) ": field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    const fields = stat.slice(close + 2).split(' ');
    out.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
  }
  return out;
}

export interface CpuSpent {
  readonly wallSeconds: number;
  /** This Node process: admin plane, vault, bench client (all threads). */
  readonly node: number;
  /** Every process named `postgres` (backends, WAL writer, checkpointer…). */
  readonly postgres: number;
  readonly nats: number;
}

/**
 * Start counting CPU seconds; call the result to stop. With `postgresPids`, only those PostgreSQL
 * processes count (this run's backends): on a machine shared with other agents' tests, every
 * process named postgres would count their queries too.
 */
export function cpuMeter(postgresPids?: ReadonlySet<number>): () => CpuSpent {
  const wall = performance.now();
  const node = process.cpuUsage();
  const ours = (all: Map<number, number>) =>
    postgresPids ? new Map([...all].filter(([pid]) => postgresPids.has(pid))) : all;
  const pg = ours(processCpu('postgres'));
  const nats = processCpu('nats-server');
  const delta = (before: Map<number, number>, after: Map<number, number>) => {
    let sum = 0;
    for (const [pid, seconds] of after) sum += seconds - (before.get(pid) ?? 0);
    return sum;
  };
  return () => {
    const used = process.cpuUsage(node);
    return {
      wallSeconds: (performance.now() - wall) / 1000,
      node: (used.user + used.system) / 1e6,
      postgres: delta(pg, ours(processCpu('postgres'))),
      nats: delta(nats, processCpu('nats-server')),
    };
  };
}

export interface GpgKey {
  /** `gpg --export`, binary (what pgp_pub_encrypt takes as bytea). */
  readonly publicKey: Buffer;
  /** `gpg --export-secret-keys`, binary, unprotected. */
  readonly secretKey: Buffer;
  readonly seconds: number;
  readonly listing: string;
  remove(): void;
}

const GPG = '/usr/bin/gpg';

/**
 * An RSA-3072 key as GnuPG 2.2 makes by default (RSA-3072 sign/certify primary, RSA-3072
 * encryption subkey), without a passphrase, in a temporary GNUPGHOME. pgcrypto skips the primary
 * key and encrypts to the subkey; a single primary key ("--quick-gen-key … rsa3072 encr") gives
 * "No encryption key found".
 */
export function generateGpgKey(): GpgKey {
  const home = mkdtempSync(join(tmpdir(), 'coffer-bench-gnupg-'));
  const env = { ...process.env, GNUPGHOME: home };
  const remove = () => {
    try {
      execFileSync('/usr/bin/gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };
  try {
    const params = join(home, 'params');
    writeFileSync(
      params,
      [
        '%no-protection',
        'Key-Type: RSA',
        'Key-Length: 3072',
        'Key-Usage: sign,cert',
        'Subkey-Type: RSA',
        'Subkey-Length: 3072',
        'Subkey-Usage: encrypt',
        'Name-Real: bench',
        'Name-Email: bench@example.com',
        'Expire-Date: 0',
        '%commit',
        '',
      ].join('\n'),
    );
    const t0 = performance.now();
    execFileSync(GPG, ['--batch', '--gen-key', params], { env, stdio: 'ignore' });
    const quiet = { env, stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[] };
    const seconds = (performance.now() - t0) / 1000;
    const publicKey = execFileSync(GPG, ['--batch', '--export', 'bench@example.com'], quiet);
    const secretKey = execFileSync(
      GPG,
      ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--export-secret-keys', 'bench@example.com'],
      quiet,
    );
    const listing = execFileSync(GPG, ['--batch', '--list-keys', '--with-colons'], { ...quiet, encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('pub:') || l.startsWith('sub:'))
      .map((l) => {
        const f = l.split(':');
        // pub/sub, key length, capabilities (algo 1 = RSA).
        return `${f[0]} ${f[3] === '1' ? 'rsa' : `algo${f[3]}-`}${f[2]} [${f[11]}]`;
      })
      .join(', ');
    return { publicKey, secretKey, seconds, listing, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** Load averages and whether another benchmark is running, for the report. */
export function machineLoad(): { load1: number; others: string[] } {
  const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const others: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/bench\/(?!reveal)[\w-]+\.ts/.test(cmd) || /\bvitest\b/.test(cmd)) others.push(`${entry}: ${cmd.trim()}`);
    } catch {
      // exited meanwhile
    }
  }
  return { load1, others };
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) for a base32 secret at `at`: what an authenticator app shows. */
export function totpCode(base32: string, at: Date): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error('not base32');
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => Number.parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Run `fn` under the V8 CPU profiler of this process (every thread's JS here) and write `file`. */
export async function profiled<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}
