// Issue 11, item 2: deploy/compose/compose.yaml against the compose specification's schema, and
// held to the deployment's rules (hardening, secrets only from files, TLS on every link). That its
// networks allow exactly the flows of flows.yaml is tests/deploy/flows.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSE_FILE, type ComposeService, composeSchema, interpolate, readCompose } from './compose.ts';
import { NO_PASSWORD, PLANE_TLS, SECRET_NAME, SECRETS_DIR, STATE_DIR, STATE_ENV } from './conventions.ts';
import { DEPLOY } from './manifests.ts';

const doc = readCompose();
const COFFER = ['ingest', 'vault', 'admin', 'migrate', 'init'];
const service = (name: string): ComposeService => doc.services[name] as ComposeService;
const mounted = (s: ComposeService): string[] =>
  (s.secrets ?? []).map((x) => `${SECRETS_DIR}/${typeof x === 'string' ? x : (x.target ?? x.source)}`);

describe('deploy/compose/compose.yaml', () => {
  it('is valid against the compose specification schema', () => {
    const validate = composeSchema();
    expect(validate(doc), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('the schema check is not vacuous: an unknown key or a wrong type fails it', () => {
    const validate = composeSchema();
    const broken = readCompose();
    (broken.services.vault as ComposeService).read_onyl = true;
    expect(validate(broken)).toBe(false);
    const wrongType = readCompose();
    (wrongType.services.vault as ComposeService).read_only = 'yes';
    expect(validate(wrongType)).toBe(false);
  });

  it('interpolates like compose: defaults, required variables, plain ones', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's syntax, not a JS template
    expect(interpolate('${A:-0.0.0.0}:8080 ${B:?set B} ${C} $${D}')).toBe('0.0.0.0:8080 <B>  ${D}');
  });

  it('runs postgres, nats, vault, ingest, admin, the migration job and the init job', () => {
    expect(Object.keys(doc.services).sort()).toEqual([
      'admin',
      'ingest',
      'init',
      'migrate',
      'nats',
      'postgres',
      'vault',
    ]);
    expect(service('migrate').command).toEqual(['migrate']);
    expect(service('init').command).toEqual(['init']);
    expect(service('init').profiles, 'init runs only when asked').toEqual(['setup']);
    expect(service('vault').depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
  });

  it.each(COFFER)('%s runs hardened: read-only root, no capabilities, no privilege gain, unprivileged', (name) => {
    const s = service(name);
    expect(s.read_only).toBe(true);
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.security_opt).toContain('no-new-privileges:true');
    expect(s.user).toBe('10001:10001');
    expect(s.tmpfs).toEqual(['/tmp:size=16m,mode=1777']);
    expect(s.image).toMatch(/^coffer-(cli|ingest|vault|admin):/);
  });

  it.each(['vault', 'admin'] as const)(
    '%s keeps its security state on a named volume of its own, its only writable path besides /tmp',
    (plane) => {
      const s = service(plane);
      expect(s.environment).toMatchObject(STATE_ENV[plane]);
      expect(s.volumes).toEqual([`${plane}-state:${STATE_DIR}`]);
      expect(Object.keys((doc.volumes ?? {}) as object)).toContain(`${plane}-state`);
      // Never shared: no other service mounts it.
      const others = Object.entries(doc.services).filter(([n]) => n !== plane);
      for (const [n, o] of others) {
        const volumes = (o.volumes ?? []) as string[];
        expect(
          volumes.filter((v) => v.startsWith(`${plane}-state:`)),
          n,
        ).toEqual([]);
      }
    },
  );

  it('the other Coffer services mount no volume: their root and secrets stay read-only', () => {
    for (const name of ['ingest', 'migrate', 'init']) expect(service(name).volumes, name).toBeUndefined();
  });

  it('third-party images are pinned by digest', () => {
    for (const name of ['postgres', 'nats']) expect(service(name).image).toMatch(/^[a-z0-9.:/-]+@sha256:[0-9a-f]{64}$/);
  });

  it('takes every secret from a file, and writes no secret value into the environment', () => {
    for (const [name, secret] of Object.entries(doc.secrets)) {
      expect(secret.file, name).toMatch(
        /^\.\/secrets\/[a-z_-]+\.(crt|key)$|^\.\/secrets\/(pg-superuser-password|ingest-idempotency-secret)$/,
      );
      expect(existsSync(path.join(DEPLOY, 'compose', secret.file ?? '')), `${name} must not be committed`).toBe(false);
    }
    for (const [name, s] of Object.entries(doc.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (SECRET_NAME.test(key) && !(name === 'nats' && value === NO_PASSWORD))
          expect(value, `${name}.${key}`).toMatch(new RegExp(`^${SECRETS_DIR}/`));
        expect(String(value), `${name}.${key}`).not.toMatch(/:\/\/[^/@]*:[^/@]*@/); // no password in a URL
      }
    }
    // A service only points at files it has mounted.
    for (const [name, s] of Object.entries(doc.services)) {
      const paths = Object.values(s.environment ?? {}).filter((v) => String(v).startsWith(`${SECRETS_DIR}/`));
      for (const p of paths) expect(mounted(s), `${name} mounts ${p}`).toContain(p);
    }
  });

  it.each(Object.entries(PLANE_TLS))('%s gets exactly the TLS settings of the conventions', (plane, blocks) => {
    const env = service(plane).environment ?? {};
    const tls = Object.fromEntries(
      Object.entries(env).filter(([k]) => /TLS|^DATABASE_SSL/.test(k) && k !== 'NATS_URL'),
    );
    expect(tls).toEqual(Object.assign({}, ...blocks));
    expect(env.NATS_URL).toBe('tls://nats:4222');
  });

  it('only the vault (and its migration job) holds a database credential, over verify-full TLS', () => {
    expect(service('vault').environment?.DATABASE_URL).toBe(
      'postgres://coffer_vault@postgres:5432/coffer?sslmode=verify-full',
    );
    expect(service('migrate').environment?.COFFER_MIGRATION_DATABASE_URL).toMatch(/sslmode=verify-full$/);
    for (const name of ['ingest', 'admin', 'init']) {
      const s = service(name);
      expect(
        Object.keys(s.environment ?? {}).filter((k) => /DATABASE|^PG/.test(k)),
        name,
      ).toEqual([]);
      expect(
        mounted(s).filter((p) => p.includes('pg-')),
        name,
      ).toEqual([]);
    }
  });

  it('PostgreSQL admits the two roles by client certificate over TLS, and nothing else', () => {
    const hba = readFileSync(path.join(DEPLOY, 'compose/pg_hba.conf'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/));
    expect(hba).toEqual([
      ['local', 'all', 'postgres', 'peer'],
      ['hostssl', 'coffer', 'coffer_vault', 'all', 'cert', 'clientcert=verify-full'],
      ['hostssl', 'coffer', 'coffer_owner', 'all', 'cert', 'clientcert=verify-full'],
      ['host', 'all', 'all', 'all', 'reject'],
      ['hostnossl', 'all', 'all', 'all', 'reject'],
    ]);
    expect(String(service('postgres').command)).toMatch(/ssl=on .*ssl_min_protocol_version=TLSv1\.3/);
  });

  it('NATS requires TLS and maps client certificates to the users of permissions.conf', () => {
    const conf = readFileSync(path.join(DEPLOY, 'compose/nats.conf'), 'utf8');
    expect(conf).toMatch(/verify_and_map: true/);
    expect(conf).toMatch(/include \.\/permissions\.conf/);
    expect(conf).toMatch(/^http: 127\.0\.0\.1:8222$/m); // monitoring on the container's loopback only
  });

  it('the file states no host port but the two public ones', () => {
    const published = Object.entries(doc.services).flatMap(([n, s]) => (s.ports ?? []).map((p) => `${n} ${p}`));
    expect(published).toEqual(['ingest 0.0.0.0:8080:8080', 'admin 127.0.0.1:8081:8081']);
    expect(readFileSync(COMPOSE_FILE, 'utf8')).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
  });
});
