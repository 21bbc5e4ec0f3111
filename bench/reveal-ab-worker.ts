/**
 * One side of `bench/reveal-ab.ts`: a warm admin stack (vault + admin in this process, as
 * bench/reveal.bench.ts builds it) that reveals on command. Each stdin line `N` runs N sequential
 * reveals and answers one JSON line with their server times (Fastify's reply.elapsedTime, ms) and this
 * process's CPU time per reveal.
 * `handler N` times N calls of the vault's records.reveal dispatch alone (no bus, no admin plane).
 * `profile FILE` writes a CPU profile of the next batch. Copied unchanged into the tree it measures,
 * so that it runs that tree's code.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { sessionTokenHash } from '@coffer/crypto';
import { encodeJson } from '@coffer/protocol';
import { signIn, startAdminStack } from '@coffer/tests/admin-stack';
import { adminDispatcher, adminHandlers, ONE_TRANSACTION_OPS, oneTransaction, policyGate } from '@coffer/vault/testing';

const decoys = process.env.BENCH_DECOYS === '1';
const format = Number(process.env.BENCH_RECORD_FORMAT ?? 1) as 1 | 2;
const stack = await startAdminStack(decoys ? { decoyKey: randomBytes(32) } : {});
const times: number[] = [];
stack.app.addHook('onResponse', async (req, reply) => {
  if (req.routeOptions.url === '/api/records/:id/reveal') times.push(reply.elapsedTime);
});
const value = '4111 1111 1111 1111';
const recordId = await stack.addRecord('pan', value, undefined, format);
const auth = await signIn(stack.app);
const revealOnce = async () => {
  const res = await stack.app.inject({
    method: 'POST',
    url: `/api/records/${recordId}/reveal`,
    headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
    payload: { reason: 'bench: reveal A/B' },
  });
  if (res.statusCode !== 200 || res.json().value !== value) throw new Error(`reveal failed: ${res.statusCode}`);
};
// The vault's dispatch alone (decode, policy, handler, one transaction), without the bus.
const sql = stack.db.runtime;
const vault = adminDispatcher({
  handlers: adminHandlers(sql, async () => {}),
  gate: policyGate(sql, { requireMfa: false }),
  oneTransaction: { ops: ONE_TRANSACTION_OPS, run: oneTransaction(sql) },
  clock: () => new Date(),
});
const revealBytes = encodeJson({
  v: 1,
  session: sessionTokenHash(auth.token),
  recordId,
  reason: 'bench: vault handler A/B',
  origin: '127.0.0.1 bench',
});
const handlerOnce = async () => {
  const t0 = performance.now();
  await vault('records.reveal', revealBytes);
  return performance.now() - t0;
};
for (let i = 0; i < 50; i++) await revealOnce();
for (let i = 0; i < 50; i++) await handlerOnce();
times.length = 0;
let profileFile: string | undefined;
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.startsWith('profile ')) {
    profileFile = line.slice('profile '.length);
    process.stdout.write('ok\n');
    continue;
  }
  if (line === 'quit') break;
  if (line.startsWith('handler ')) {
    const handlerTimes: number[] = [];
    for (let i = 0; i < Number(line.slice('handler '.length)); i++) handlerTimes.push(await handlerOnce());
    process.stdout.write(`${JSON.stringify({ times: handlerTimes, cpuMs: 0 })}\n`);
    continue;
  }
  const n = Number(line);
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await revealOnce();
  await new Promise((r) => setImmediate(r));
  const used = process.cpuUsage(cpu);
  if (session && profileFile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
    profileFile = undefined;
  }
  // This process's CPU per reveal (admin plane, vault and the client together), in ms.
  const cpuMs = (used.user + used.system) / 1000 / n;
  process.stdout.write(`${JSON.stringify({ times: times.splice(0), cpuMs })}\n`);
}
await stack.close();
process.exit(0);
