// Issue 11, item 1: the images. No container engine runs here, so the Dockerfile is read as data
// and held to the properties the deployment relies on, and its HEALTHCHECK one-liner is run for
// real against live HTTP and HTTPS servers.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { effective, last, pairs, parseDockerfile } from './dockerfile.ts';
import { ROOT } from './manifests.ts';

const DOCKERFILE = path.join(ROOT, 'deploy/docker/Dockerfile');
const file = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const SERVICES = { ingest: 8080, vault: 8082, admin: 8081 } as const;
const TARGETS = [...Object.keys(SERVICES), 'cli'];

describe('deploy/docker/Dockerfile', () => {
  it('has one target per deployable, each built on the one pinned base', () => {
    expect(file.stages.map((s) => s.name).sort()).toEqual(['base', ...TARGETS].sort());
    const base = file.stages.find((s) => s.name === 'base');
    expect(base?.from).toBe(`\${NODE_IMAGE}`); // the ARG, resolved below
    // Node 20, Debian slim, pinned by a sha256 digest (a tag alone can be re-pushed).
    expect(file.globalArgs.get('NODE_IMAGE')).toMatch(/^node:20-bookworm-slim@sha256:[0-9a-f]{64}$/);
    for (const target of TARGETS) expect(file.stages.find((s) => s.name === target)?.from).toBe('base');
  });

  it.each(TARGETS)(
    '%s copies only its own deploy folder, root-owned and read-only, and runs node dist/main.js',
    (t) => {
      const all = effective(file, t);
      expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]);
      const copies = all.filter((i) => i.keyword === 'COPY').map((i) => i.args);
      expect(copies).toEqual([`--chown=0:0 --chmod=a=rX .deploy/${t}/ /app/`]);
      // Nothing is installed or built in the image: the one RUN is in the base, removes things and
      // makes the user and its state directory.
      const runs = all.filter((i) => i.keyword === 'RUN').map((i) => i.args);
      expect(runs).toHaveLength(1);
      expect(runs[0]).not.toMatch(/\b(apt-get install|npm (ci|install)|pnpm|curl|wget)\b/);
      expect(runs[0]).toMatch(/rm -rf \/usr\/local\/lib\/node_modules .*\/usr\/local\/bin\/npm/);
      // The state directory belongs to the service's user: a fresh compose volume mounted on it
      // takes that owner, so the vault and admin can write their state files with a read-only root.
      expect(runs[0]).toMatch(/install -d -o 10001 -g 10001 -m 0700 \/var\/lib\/coffer$/);
      expect(JSON.parse(last(file, t, 'ENTRYPOINT')?.args ?? 'null')).toEqual(['node', 'dist/main.js']);
      expect(last(file, t, 'WORKDIR')?.args).toBe('/app');
      expect(last(file, t, 'CMD')).toBeUndefined();
    },
  );

  it.each(TARGETS)('%s runs as an unprivileged numeric user and carries no secret', (t) => {
    const user = last(file, t, 'USER')?.args ?? '';
    expect(user).toMatch(/^[1-9][0-9]{3,}:[1-9][0-9]{3,}$/); // numeric, so runAsNonRoot can verify it
    const env = effective(file, t)
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => [...pairs(i.args).keys()]);
    expect(env.filter((k) => /PASSWORD|SECRET|TOKEN|KEY|DATABASE_URL|TRUST_ROOT/.test(k))).toEqual([]);
    expect(pairs(effective(file, t).find((i) => i.keyword === 'ENV')?.args ?? '').get('TMPDIR')).toBe('/tmp');
  });

  it.each(TARGETS)('%s carries the OCI labels', (t) => {
    const labels = new Map(
      effective(file, t)
        .filter((i) => i.keyword === 'LABEL')
        .flatMap((i) => [...pairs(i.args)]),
    );
    for (const key of ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses', 'vendor']) {
      expect(labels.get(`org.opencontainers.image.${key}`), key).toBeTruthy();
    }
    expect(labels.get('org.opencontainers.image.title')).toBe(`coffer-${t}`);
    expect(labels.get('org.opencontainers.image.base.name')).toBe('node:20-bookworm-slim');
  });

  it.each(Object.entries(SERVICES))('%s listens on %i and checks its own /healthz without curl', (t, port) => {
    expect(pairs(effective(file, t).findLast((i) => i.keyword === 'ENV')?.args ?? '').get('PORT')).toBe(String(port));
    expect(last(file, t, 'EXPOSE')?.args).toBe(String(port));
    const check = last(file, t, 'HEALTHCHECK')?.args ?? '';
    expect(check).toMatch(/^--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD \[/);
    const argv = JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain("path:'/healthz'");
  });

  it('the CLI image has no health check (its jobs run to completion)', () => {
    expect(last(file, 'cli', 'HEALTHCHECK')?.args).toBe('NONE');
  });
});

describe('.dockerignore', () => {
  const lines = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  it('sends the builder only the deploy folders, and no key or env file inside them', () => {
    expect(lines[0]).toBe('*');
    expect(lines.filter((l) => l.startsWith('!'))).toEqual(['!.deploy/']);
    for (const pattern of ['.deploy/**/.env', '.deploy/**/*.key', '.deploy/**/*.pem']) expect(lines).toContain(pattern);
  });
});

describe('the HEALTHCHECK one-liner, run', () => {
  const check = last(file, 'ingest', 'HEALTHCHECK')?.args ?? '';
  const script = (JSON.parse(check.slice(check.indexOf('CMD ') + 4)) as string[])[2] ?? '';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-healthcheck-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string>): Promise<number | null> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '', ...env } });
      child.on('exit', (code) => resolve(code));
    });
  const listen = async (server: http.Server | https.Server): Promise<number> => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };
  const handler: http.RequestListener = (req, res) => {
    res.statusCode = req.url === '/healthz' ? 200 : 404;
    res.end();
  };

  it('exits 0 on a 200 from /healthz, 1 on anything else or nothing listening', async () => {
    let status = 200;
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    const port = await listen(server);
    try {
      expect(await run({ PORT: String(port) })).toBe(0);
      expect(await run({ PORT: String(port), HOST: '0.0.0.0' }), 'any-address listen: asks loopback').toBe(0);
      expect(await run({ PORT: String(port), HOST: '127.0.0.1' }), 'its own listen address').toBe(0);
      expect(await run({ PORT: String(port), HOST: '127.0.0.2' }), 'not where it listens').toBe(1);
      status = 503;
      expect(await run({ PORT: String(port) })).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await run({ PORT: String(port) }), 'nothing listening').toBe(1);
  });

  it('speaks TLS when the service serves TLS (COFFER_TLS_CERT set)', async () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=ingest',
      ],
      { stdio: 'ignore' },
    );
    const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, handler);
    const port = await listen(server);
    try {
      expect(await run({ PORT: String(port), COFFER_TLS_CERT: cert })).toBe(0);
      expect(await run({ PORT: String(port) }), 'plain HTTP against a TLS port').toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
