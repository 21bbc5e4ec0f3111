/**
 * `pnpm bench:reveal-suites` (issue 15 item 1): what a person's X-Wing key costs a reveal. Three
 * orgs on real PostgreSQL and NATS, each revealing one record as its key-admin, round-robin so
 * machine load falls on all alike:
 *   x25519            an X25519 org (X25519 person, X25519 data key);
 *   xwing data key    an org moved to X-Wing before people were: X25519 person, X-Wing data key
 *                     (main before this change, and every X25519 person of an X-Wing org);
 *   xwing             an X-Wing org: X-Wing person and data key (a new org now).
 * Then the admin plane's key work per reveal alone, in process: the person's key out of the
 * session wrap (for X-Wing, the ML-KEM key expanded from its seed), the data key out of its copy
 * (an X25519 or X-Wing HPKE open), and the record opened.
 */
import { loadavg } from 'node:os';
import {
  createSessionToken,
  dataKeyWrapBinding,
  deriveSessionKey,
  open,
  PrivateKey,
  PublicKey,
  recordBinding,
  seal,
  sessionKeyAad,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
  wrapPrivateKey,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { type AdminStack, call, signIn, startAdminStack } from '@coffer/tests/admin-stack';
import { benchLifecycle, machine } from './measure.ts';
import { interleaved } from './reveal-support.ts';

const REVEALS = Number(process.env.BENCH_REVEALS ?? 200);
const KEY_WORK = Number(process.env.BENCH_KEY_WORK ?? 300);
const { onCleanup, cleanUp, done } = benchLifecycle('bench:reveal-suites', 15 * 60 * 1000);
const progress = (line: string) => process.stderr.write(`${line}\n`);

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? Number.NaN;

/** One record sealed (single-shot) to the org's current data key, stored as the vault stores it. */
async function recordUnderCurrentKey(stack: AdminStack): Promise<string> {
  const [key] = await stack.db.owner<{ id: string; public_key: string; suite: 'x25519' | 'xwing' }[]>`
    SELECT id, public_key, COALESCE(bundle->>'suite', 'x25519') AS suite FROM data_keys
    WHERE not_before <= ${stack.now()} ORDER BY not_before DESC LIMIT 1`;
  if (!key) throw new Error('no current key');
  const id = newRecordId();
  const sealed = seal(
    PublicKey.fromBase64url(key.suite, key.public_key),
    Buffer.from('078-05-1120'),
    recordBinding(id, 'ssn', key.id),
  );
  await stack.db.owner`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
    VALUES (${id}, 'ssn', ${key.id}, ${sealed}, '1120', ${stack.now()})`;
  return id;
}

async function org(name: string, suite: 'x25519' | 'xwing', moveToXWing = false) {
  const stack = await startAdminStack({ suite });
  onCleanup(`${name} stack`, () => stack.close());
  const admin = await signIn(stack.app);
  if (moveToXWing) {
    await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'xwing' });
    await call(stack.app, admin, 'POST', '/api/keys/rotate');
  }
  const id = await recordUnderCurrentKey(stack);
  return async () => {
    const res = await call(stack.app, admin, 'POST', `/api/records/${id}/reveal`, { reason: 'bench reveal suites' });
    if (res.statusCode !== 200) throw new Error(`${name}: reveal ${res.statusCode} ${res.body}`);
  };
}

/** The admin plane's key work for one reveal, with a person's key and a data key of these kinds. */
function keyWork(person: 'x25519' | 'xwing', data: 'x25519' | 'xwing') {
  const user = PrivateKey.generate(person);
  const token = createSessionToken();
  const aad = sessionKeyAad('s', 'u');
  const wrappedUser = wrapWithSymmetricKey(user, deriveSessionKey(token, 's'), aad);
  const dataKey = PrivateKey.generate(data);
  const wrappedData = wrapPrivateKey(dataKey, user.publicKey, dataKeyWrapBinding('k', 'u'));
  const binding = recordBinding('r', 'ssn', 'k');
  const sealed = seal(dataKey.publicKey, Buffer.from('078-05-1120'), binding);
  return () => {
    const sessionKey = deriveSessionKey(token, 's');
    const u = unwrapWithSymmetricKey(person, sessionKey, wrappedUser, aad);
    sessionKey.destroy();
    const d = unwrapPrivateKey(data, u, wrappedData, dataKeyWrapBinding('k', 'u'));
    open(d, sealed, binding).fill(0);
    u.destroy();
    d.destroy();
  };
}

const loadAtStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
const KINDS = {
  x25519: ['x25519', 'x25519'],
  'xwing data key': ['x25519', 'xwing'],
  xwing: ['xwing', 'xwing'],
} as const;

/** CPU milliseconds (this process, user + system) per call: far less sensitive to load than wall time. */
function cpuPerCall(op: () => void, n: number): number {
  for (let i = 0; i < 20; i++) op();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) op();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / n;
}

try {
  // BENCH_REVEALS=0: the in-process key work alone, no orgs started.
  let timed: Record<string, number[]> = {};
  if (REVEALS > 0) {
    progress('starting three orgs…');
    const reveals = {
      x25519: await org('x25519', 'x25519'),
      'xwing data key': await org('xwing data key', 'x25519', true),
      xwing: await org('xwing', 'xwing'),
    };
    progress(`revealing ${REVEALS} times each, round-robin…`);
    timed = await interleaved(REVEALS, 20, reveals);
  }
  const ops = Object.fromEntries(Object.entries(KINDS).map(([name, [p, d]]) => [name, keyWork(p, d)]));
  const work = await interleaved(KEY_WORK, 20, ops);
  const cpu = Object.fromEntries(Object.entries(ops).map(([name, op]) => [name, cpuPerCall(op, KEY_WORK)]));
  const ms = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(2));
  const rows = Object.keys(KINDS).map((name) => {
    const t = timed[name] ?? [];
    const w = work[name] ?? [];
    return `| ${name} | ${ms(pct(t, 0.5))} | ${ms(pct(t, 0.9))} | ${ms(pct(w, 0.5))} | ${ms(cpu[name] ?? Number.NaN)} |`;
  });
  process.stdout.write(
    [
      `${machine()}; load average at the start ${loadAtStart}, at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      `${REVEALS} reveals per org (inject, admin plane + vault + PostgreSQL + NATS), ${KEY_WORK} key-work runs`,
      '',
      '| org (person key, data key) | reveal p50 ms | reveal p90 ms | admin key work p50 ms | key work CPU ms |',
      '|---|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  await cleanUp();
  done();
}
