/**
 * Memory of each plane as its own process, idle and after a load, for the Kubernetes requests and
 * limits (deploy/k8s). Run: `pnpm tsx bench/rss.bench.ts`. Needs the local PostgreSQL and
 * nats-server. Numbers are the processes' VmRSS/VmHWM from /proc, running from source under tsx
 * (the built output leaves the TypeScript loader out, so it needs somewhat less).
 */
import { readFileSync } from 'node:fs';
import { pool, submit } from '@coffer/tests/http';
import { type PlaneProcess, startPlaneProcess } from '@coffer/tests/service-process';
import { BOOTSTRAP, bootstrap, startInfra } from '@coffer/tests/stack';
import { mixedSamples } from '@coffer/tests/values';
import { machine } from './measure.ts';

const SUBMISSIONS = Number(process.env.RSS_SUBMISSIONS ?? 3000);
const REVEALS = Number(process.env.RSS_REVEALS ?? 100);

const mib = (kb: string | undefined): number => Math.round(Number(kb ?? 0) / 1024);
function memory(p: PlaneProcess): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
  return { rss: mib(/VmRSS:\s+(\d+)/.exec(status)?.[1]), peak: mib(/VmHWM:\s+(\d+)/.exec(status)?.[1]) };
}

const infra = await startInfra();
const planes: PlaneProcess[] = [];
try {
  const nats = (plane: 'ingest' | 'vault' | 'admin') => ({
    NATS_URL: infra.nats.url,
    NATS_USER: plane,
    NATS_PASSWORD: infra.passwords[plane],
  });
  const vault = await startPlaneProcess('vault', {
    ...nats('vault'),
    DATABASE_URL: infra.runtimeUrl,
    COFFER_REQUIRE_MFA: 'false',
  });
  planes.push(vault);
  const ceremony = await bootstrap(await infra.connectBus('admin'));
  const ingest = await startPlaneProcess('ingest', {
    ...nats('ingest'),
    COFFER_TRUST_ROOT: ceremony.trustRoot,
    COFFER_SUBMIT_RATE_PER_MINUTE: '1000000',
  });
  const admin = await startPlaneProcess('admin', { ...nats('admin'), COFFER_TRUST_ROOT: ceremony.trustRoot });
  planes.push(ingest, admin);
  const idle = planes.map((p) => ({ plane: p.plane, ...memory(p) }));

  const ids: string[] = [];
  await pool(mixedSamples(SUBMISSIONS), 32, async (sample) => {
    const a = await submit(ingest.url, sample);
    if (a.status === 202) ids.push(String(a.body.id));
  });
  const signin = await fetch(`${admin.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: BOOTSTRAP.adminEmail, password: BOOTSTRAP.adminPassword }),
  });
  const cookie = (signin.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrf } = (await signin.json()) as { csrf: string };
  let revealed = 0;
  await pool(ids.slice(0, REVEALS), 4, async (id) => {
    const r = await fetch(`${admin.url}/api/records/${id}/reveal`, {
      method: 'POST',
      headers: { cookie, 'x-coffer-csrf': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'rss measurement' }),
    });
    if (r.ok) revealed++;
    await r.arrayBuffer();
  });
  const loaded = planes.map((p) => ({ plane: p.plane, ...memory(p) }));
  process.stdout.write(`${machine()}\n${ids.length} of ${SUBMISSIONS} accepted, ${revealed} revealed\n`);
  process.stdout.write('plane   idle RSS MiB   RSS after load MiB   peak RSS MiB\n');
  for (const [i, l] of loaded.entries()) {
    process.stdout.write(
      `${l.plane.padEnd(8)}${String(idle[i]?.rss).padStart(12)}${String(l.rss).padStart(21)}${String(l.peak).padStart(15)}\n`,
    );
  }
} finally {
  for (const p of planes) await p.kill('SIGTERM');
  await infra.close();
}
