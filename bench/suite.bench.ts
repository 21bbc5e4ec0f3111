/**
 * `pnpm tsx bench/suite.bench.ts`: reveal latency and export rate of an X-Wing org against an
 * X25519 org, in one run and in alternating rounds so that both see the same machine load. Each
 * org is a vault and an admin plane in this process (the admin route tests' stack) with
 * BENCH_SUITE_RECORDS records sealed as ingest seals them (contexts of 4,096 records). A reveal of
 * a v2 record pays one decapsulation of its context (and the data key's unwrap); an export pays one
 * per context it reads. Prints a Markdown table and the load average before and after.
 */
import { loadavg } from 'node:os';
import { PublicKey, RecordSealingContext } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { type AdminStack, call, signIn, startAdminStack } from '@coffer/tests/admin-stack';
import { machine } from './measure.ts';

const RECORDS = Number(process.env.BENCH_SUITE_RECORDS ?? 20_000);
const REVEALS = Number(process.env.BENCH_SUITE_REVEALS ?? 40);
const ROUNDS = Number(process.env.BENCH_SUITE_ROUNDS ?? 2);
const CONTEXT_RECORDS = 4096;
const SUITES = ['x25519', 'xwing'] as const;
type SuiteName = (typeof SUITES)[number];

const progress = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function seeded(suite: SuiteName): Promise<{ stack: AdminStack; ids: string[] }> {
  const stack = await startAdminStack({ suite });
  const [key] = stack.ceremony.request.dataKeys;
  if (!key) throw new Error('no data key');
  const publicKey = PublicKey.fromBase64url(suite, key.bundle.publicKey);
  const ids: string[] = [];
  let context: RecordSealingContext | undefined;
  for (let start = 0; start < RECORDS; start += 1000) {
    const rows = [];
    for (let i = start; i < Math.min(RECORDS, start + 1000); i++) {
      if (!context || context.exhausted) {
        context?.destroy();
        context = RecordSealingContext.create(publicKey, key.bundle.id, CONTEXT_RECORDS);
        await stack.db.owner`INSERT INTO record_contexts (id, data_key_id, enc)
          VALUES (${context.contextId}, ${key.bundle.id}, ${context.enc})`;
      }
      const id = newRecordId();
      ids.push(id);
      const value = `secret number ${i}`;
      rows.push({
        id,
        type: 'secret',
        data_key_id: key.bundle.id,
        context_id: context.contextId,
        sealed: context.seal(id, 'secret', Buffer.from(value)),
        hint: null,
        submitted_at: stack.now(),
        stored_at: stack.now(),
      });
    }
    await stack.db.owner`INSERT INTO records ${stack.db.owner(rows)}`;
  }
  context?.destroy();
  await stack.db.owner`ANALYZE records`;
  return { stack, ids };
}

const stacks = new Map<SuiteName, { stack: AdminStack; ids: string[] }>();
const results = new Map<SuiteName, { reveal: number[]; exportRate: number[] }>();
const loadBefore = loadavg();
try {
  for (const suite of SUITES) {
    progress(`${suite}: sealing ${RECORDS} records`);
    stacks.set(suite, await seeded(suite));
    results.set(suite, { reveal: [], exportRate: [] });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const suite of round % 2 ? SUITES : [...SUITES].reverse()) {
      const { stack, ids } = stacks.get(suite) as { stack: AdminStack; ids: string[] };
      const r = results.get(suite) as { reveal: number[]; exportRate: number[] };
      const auth = await signIn(stack.app);
      progress(`round ${round}, ${suite}: ${REVEALS} reveals, one export`);
      for (let i = 0; i < REVEALS; i++) {
        // A different context each time where there are several: each reveal decapsulates anew.
        const id = ids[(i * CONTEXT_RECORDS + i) % ids.length] as string;
        const t0 = performance.now();
        const res = await call(stack.app, auth, 'POST', `/api/records/${id}/reveal`, { reason: 'bench: suites' });
        r.reveal.push(performance.now() - t0);
        if (res.statusCode !== 200) throw new Error(`reveal failed: ${res.statusCode} ${res.body}`);
      }
      const t0 = performance.now();
      const res = await call(stack.app, auth, 'POST', '/api/exports', { reason: 'bench: suites export' });
      const seconds = (performance.now() - t0) / 1000;
      const lines = res.body.split('\r\n').length - 2;
      if (res.statusCode !== 200 || lines !== RECORDS) throw new Error(`export: ${res.statusCode}, ${lines} lines`);
      r.exportRate.push(RECORDS / seconds);
    }
  }
} finally {
  for (const { stack } of stacks.values()) await stack.close();
}
const loadAfter = loadavg();
const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`Machine: ${machine()}; load average before ${fmt(loadBefore)}, after ${fmt(loadAfter)}`);
console.log(`${RECORDS} records per org in contexts of ${CONTEXT_RECORDS}; ${ROUNDS} alternating rounds\n`);
console.log('| suite | reveal p50 ms (in-process inject) | export records/s per round |');
console.log('|---|---:|---|');
for (const suite of SUITES) {
  const r = results.get(suite) as { reveal: number[]; exportRate: number[] };
  console.log(
    `| ${suite} | ${median(r.reveal).toFixed(2)} | ${r.exportRate.map((x) => Math.round(x).toLocaleString('en-US')).join(', ')} |`,
  );
}
