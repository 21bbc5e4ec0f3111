// Issue 11, item 1: the deploy folder an image copies (`pnpm deploy:service`, `node dist/main.js`)
// runs with exactly the environment and /run/secrets files the manifests give it: compose.yaml's
// services, and the Deployments of the production kustomize overlay (rendered by
// tests/deploy/kustomize.ts, with the Secrets and ConfigMaps deploy/README.md makes). Only what must
// differ on one machine is substituted: host names and ports in NATS_URL and DATABASE_URL, HOST and
// PORT, the /run/secrets directory, and the operator's trust root. PostgreSQL runs with compose's
// TLS options, pg_hba.conf and roles; NATS with the shipped config over mutual TLS (Kubernetes: three
// nodes, the INGEST stream at three replicas). Each plane must answer /healthz and /readyz, and must
// read every variable its manifest sets: a missing variable leaves it unready (or refused), a
// misspelt one goes unread and fails the second check. The security state the manifests keep on a
// volume (/var/lib/coffer: the vault's reply key and audit checkpoints, admin's revocation state)
// is made and used at exactly the configured paths, and a restarted vault signs with the same keys.

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort, requireServices } from '@coffer/testkit';
import { insertDataKey, testOrgKey } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAndDeploy, type Deployed, type Started, startDeployed } from '../support/deployed.ts';
import { getStatus } from '../support/http.ts';
import { makeTestPki, type TestPki } from '../support/pki.ts';
import { STATE_DIR } from './conventions.ts';
import { composeRun, ENV_READS_PRELOAD, k8sRun, loggedField, type ManifestRun, type Plane } from './manifest-env.ts';
import { type ShippedNats, startShippedNats } from './shipped-nats.ts';
import { startTlsPostgres, type TlsPostgres } from './tls-postgres.ts';

const PLANES: readonly Plane[] = ['vault', 'ingest', 'admin'];
// The HTTPS names deploy/README.md issues the portal and the submission endpoint under.
const HTTPS_NAME: Record<string, string> = { ingest: 'submit.example.com', admin: 'vault-admin.corp.example' };
// A private nats-server and PostgreSQL started as their own users need the binary and root; CI has
// both, and there (COFFER_REQUIRE_SERVICES=1) a missing one is a failure, not a skip.
const ready = existsSync('/usr/sbin/nats-server') && process.getuid?.() === 0;
if (!ready && requireServices()) throw new Error('manifest-env needs /usr/sbin/nats-server and root');

let pki: TestPki;
let tmp: string;
let deployed: Deployed;
let pg: TlsPostgres;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'coffer-manifest-env-'));
  chmodSync(tmp, 0o711); // the postgres user reaches its data directory inside
  const building = buildAndDeploy(['ingest', 'vault', 'admin']);
  building.catch(() => {});
  pki = await makeTestPki('coffer-manifest-pki-');
  // The identities deploy/README.md issues, by the same names (its secrets: blocks copy them).
  const bus = ['nats', 'nats.coffer-bus.svc.cluster.local', 'localhost'];
  await pki.issue({ name: 'nats-server', role: 'nats-server', dns: bus, ips: ['127.0.0.1'] });
  await pki.issue({ name: 'pg-server', role: 'pg-server', dns: ['postgres'], ips: ['127.0.0.1'] });
  for (const p of PLANES) await pki.issue({ name: p, role: 'nats-client' });
  for (const role of ['coffer_vault', 'coffer_owner']) await pki.issue({ name: role, role: 'pg-client' });
  for (const [p, dns] of Object.entries(HTTPS_NAME))
    await pki.issue({ name: `${p}-https`, role: 'http-server', dns: [dns] });
  pg = await startTlsPostgres(
    path.join(tmp, 'pg'),
    { ...pki.files('pg-server'), ca: pki.ca },
    pki.files('coffer_owner'),
  );
  // A data key signed by the org key, as `coffer init` leaves one: ingest is ready only with it.
  const owner = pg.connect('coffer_owner', { ...pki.files('coffer_owner'), ca: pki.ca });
  await insertDataKey(owner, new Date(Date.now() - 3_600_000), new Date(Date.now() + 30 * 86_400_000));
  await owner.end();
  deployed = await building;
}, 600_000);

afterAll(async () => {
  await pg?.stop();
  await deployed?.remove();
  await pki?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The manifest's run on this machine: its files under dir/secrets, hosts and ports substituted. */
async function localise(plane: Plane, run: ManifestRun, dir: string, natsPort: number) {
  mkdirSync(path.join(dir, 'secrets'), { recursive: true });
  for (const [name, source] of Object.entries(run.secrets)) {
    const target = path.join(dir, 'secrets', name);
    if ('random' in source) writeFileSync(target, randomBytes(source.random), { mode: 0o400 });
    else copyFileSync(path.join(pki.dir, source.file), target);
  }
  // The state volume: an empty directory the plane's user owns, as compose and the PVC give it.
  mkdirSync(path.join(dir, 'state'), { recursive: true, mode: 0o700 });
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(run.env)) {
    let v = value.replaceAll('/run/secrets/', `${dir}/secrets/`).replaceAll(`${STATE_DIR}/`, `${dir}/state/`);
    if (name === 'NATS_URL' || name === 'DATABASE_URL') {
      const url = new URL(v);
      url.hostname = '127.0.0.1';
      url.port = String(name === 'NATS_URL' ? natsPort : pg.port);
      v = url.toString();
    }
    if (name === 'HOST') v = '127.0.0.1';
    if (name === 'PORT') v = String(port);
    if (name === 'COFFER_TRUST_ROOT' && v.startsWith('<')) v = testOrgKey.publicKey.toBase64url();
    if (/^<.*>?$/.test(v)) throw new Error(`${plane}: ${name} is an operator placeholder this test does not fill`);
    env[name] = v;
  }
  return { env, port };
}

function statusOver(plane: Plane, port: number, route: string): Promise<number> {
  if (plane === 'vault') return getStatus(`http://127.0.0.1:${port}${route}`);
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: route, ca: readFileSync(pki.ca), servername: HTTPS_NAME[plane], timeout: 3_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/** Poll (bounded) until /readyz answers 200, the process exits, or the time is up. */
async function untilReady(plane: Plane, s: Started, port: number, ms: number) {
  const deadline = Date.now() + ms;
  let health = 0;
  let readiness = 0;
  while (Date.now() < deadline && s.child.exitCode === null) {
    health = await statusOver(plane, port, '/healthz');
    readiness = health === 200 ? await statusOver(plane, port, '/readyz') : 0;
    if (readiness === 200) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { health, readiness };
}

const SETUPS = [
  { name: 'compose.yaml', run: composeRun, nodes: 1 },
  { name: 'k8s overlays/production', run: (p: Plane) => k8sRun(p, 'overlays/production'), nodes: 3 },
] as const;

describe.skipIf(!ready).each(SETUPS)('deployed folders with the environment of $name', (setup) => {
  const nats: ShippedNats[] = [];
  const started = new Map<Plane, { s: Started; port: number; env: Record<string, string> }>();

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmp, 'run-'));
    const server = { ...pki.files('nats-server'), ca: pki.ca };
    const kind = setup.nodes === 1 ? 'compose' : 'k8s';
    const clusterPorts = await Promise.all(Array.from({ length: setup.nodes }, () => freePort()));
    const starting = clusterPorts.map((clusterPort, i) =>
      startShippedNats(kind, {
        dir: path.join(dir, `nats-${i}`),
        server,
        ...(kind === 'k8s' ? { clusterPort, routePorts: clusterPorts, podName: `nats-${i}` } : {}),
      }),
    );
    nats.push(...(await Promise.all(starting)));
    // The vault first: it makes the INGEST stream; each plane on its own node where there are three.
    for (const [i, plane] of PLANES.entries()) {
      const node = nats[i % nats.length] as ShippedNats;
      const { env, port } = await localise(plane, setup.run(plane), path.join(dir, plane), node.port);
      const s = startDeployed(deployed.dirs[plane], env, [], (argv) => [
        argv[0] as string,
        ['--import', ENV_READS_PRELOAD, ...argv.slice(1)],
      ]);
      started.set(plane, { s, port, env });
      // Ingest asks the vault for its key at start and backs off when none answers: start the
      // others once the vault is ready (bounded; the tests below say whether it ever was).
      if (plane === 'vault') await untilReady(plane, s, port, 90_000);
    }
  }, 180_000);

  afterAll(async () => {
    for (const { s } of [...started.values()].reverse()) await s.stop();
    await Promise.all(nats.map((n) => n.stop()));
  });

  it.each(PLANES)(
    '%s answers /healthz and /readyz',
    async (plane) => {
      const { s, port } = started.get(plane) as { s: Started; port: number };
      const { health, readiness } = await untilReady(plane, s, port, 90_000);
      const logs = `${s.output.join('').slice(-3000)}\n${(await Promise.all(nats.map((n) => n.log()))).join('').slice(-2000)}`;
      expect({ exited: s.child.exitCode, health, readiness }, logs).toEqual({
        exited: null,
        health: 200,
        readiness: 200,
      });
    },
    120_000,
  );

  it.each(PLANES)('%s reads every variable its manifest sets (none is misspelt or unused)', (plane) => {
    const { s, env } = started.get(plane) as { s: Started; env: Record<string, string> };
    const file = path.join(os.tmpdir(), `coffer-env-reads-${s.child.pid}`);
    const read = new Set(readFileSync(file, 'utf8').split('\n'));
    expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
  });

  /** Start a plane again with the environment it had (its volume kept), as a pod or container restart. */
  const restart = async (plane: Plane) => {
    const before = started.get(plane) as { s: Started; port: number; env: Record<string, string> };
    await before.s.stop();
    const s = startDeployed(deployed.dirs[plane], before.env);
    started.set(plane, { ...before, s });
    return { before, s };
  };

  it('the vault makes its reply key and checkpoint key on the state volume, and a restart signs with the same', async () => {
    const { env } = started.get('vault') as { env: Record<string, string> };
    const keyFile = env.COFFER_VAULT_REPLY_KEY_FILE as string;
    const auditDir = env.COFFER_AUDIT_CHECKPOINT_DIR as string;
    expect(keyFile.startsWith(`${tmp}/`)).toBe(true);
    expect(statSync(keyFile).mode & 0o777, 'the reply key is private to the vault').toBe(0o600);
    expect(statSync(path.join(auditDir, 'audit-signing-key.json')).mode & 0o777).toBe(0o600);
    const keyBytes = readFileSync(keyFile, 'utf8');
    const { before, s } = await restart('vault');
    const fingerprint = loggedField(before.s.output, 'admin replies signed by', 'fingerprint');
    const checkpointKey = loggedField(before.s.output, 'audit checkpoints signed by', 'checkpointKey');
    expect(fingerprint).toMatch(/\S/);
    const { readiness } = await untilReady('vault', s, before.port, 90_000);
    expect(readiness, s.output.join('').slice(-3000)).toBe(200);
    // Same key, so the certificate the org key gave it at `coffer init` still holds.
    expect(loggedField(s.output, 'admin replies signed by', 'fingerprint')).toBe(fingerprint);
    expect(loggedField(s.output, 'audit checkpoints signed by', 'checkpointKey')).toBe(checkpointKey);
    expect(readFileSync(keyFile, 'utf8')).toBe(keyBytes);
  }, 120_000);

  it('admin reads its revocation state at the configured path: a damaged file stops it at start', async () => {
    const { env } = started.get('admin') as { env: Record<string, string> };
    const stateFile = env.COFFER_REVOCATION_STATE_FILE as string;
    expect(stateFile.startsWith(`${tmp}/`)).toBe(true);
    // Nothing revoked yet, so nothing written; a file there that is not state is never read as 0.
    writeFileSync(stateFile, '{"v":1,"counter":-1}', { mode: 0o600 });
    const { s } = await restart('admin');
    const code = await s.exited;
    expect(code, s.output.join('').slice(-2000)).not.toBe(0);
    expect(s.output.join('')).toContain('not a revocation state file');
  }, 60_000);
});

// The run above uses the production overlay; the base and the dev overlay must give each plane the
// same environment and files, or they would need a run of their own.
describe('the other kustomize trees', () => {
  it.each(PLANES)('%s: base and overlays/dev give the environment and files production gives', (plane) => {
    const production = k8sRun(plane, 'overlays/production');
    for (const tree of ['base', 'overlays/dev']) expect(k8sRun(plane, tree), tree).toEqual(production);
  });
});
