/**
 * What a plane's process gets from its manifest: the environment (literal values, ConfigMaps,
 * envFrom) and the files mounted at /run/secrets, read from deploy/compose/compose.yaml and from a
 * rendered kustomize tree. Kubernetes Secrets and the trust-root ConfigMap are made by the
 * operator, so their contents come from the commands deploy/README.md gives for them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readCompose } from './compose.ts';
import { SECRETS_DIR } from './conventions.ts';
import { containersOf, type K8sObject, podSpecOf, render } from './kustomize.ts';
import { DEPLOY, ROOT } from './manifests.ts';

export type Plane = 'ingest' | 'vault' | 'admin';

/** A file under /run/secrets: from a file `coffer pki` (or the operator) wrote, or fresh random bytes. */
export type SecretSource = { file: string } | { random: number };

export interface ManifestRun {
  /** The environment exactly as the manifest gives it (operator placeholders as `<NAME>`). */
  readonly env: Record<string, string>;
  /** Mounted files by their name under /run/secrets. */
  readonly secrets: Record<string, SecretSource>;
}

export function composeRun(plane: Plane): ManifestRun {
  const doc = readCompose();
  const service = doc.services[plane];
  if (!service) throw new Error(`compose has no service ${plane}`);
  const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
  const secrets: Record<string, SecretSource> = {};
  for (const s of service.secrets ?? []) {
    const { source, target } =
      typeof s === 'string' ? { source: s, target: s } : { source: s.source, target: s.target ?? s.source };
    const file = doc.secrets[source]?.file;
    if (!file) throw new Error(`compose secret ${source} has no file`);
    // Files the README makes with `openssl rand`, not `coffer pki`.
    secrets[target] = /\.(crt|key)$/.test(file) ? { file: path.basename(file) } : { random: 32 };
  }
  return { env, secrets };
}

/** The operator-made Secrets and ConfigMaps of deploy/README.md's `kubectl create` commands. */
export function readmeObjects(): Map<string, Record<string, SecretSource | string>> {
  const text = readFileSync(path.join(DEPLOY, 'README.md'), 'utf8').replace(/\\\n\s*/g, ' ');
  const out = new Map<string, Record<string, SecretSource | string>>();
  for (const m of text.matchAll(/kubectl -n (\S+)\s+create (secret generic|configmap) (\S+) ([^\n]*)/g)) {
    const [, ns, , name, args] = m as unknown as [string, string, string, string, string];
    const data: Record<string, SecretSource | string> = {};
    // --from-file=<key>[=<file>] and --from-literal=<key>=<value>; a value may be `<(openssl rand N)`
    // (fresh random bytes) or an operator placeholder such as `<trust root>`.
    for (const a of args.matchAll(/--from-(file|literal)=([\w.-]+)(?:=(<\([^)]*\)|<[^>]*>|\S+))?/g)) {
      const [, kind, key, value] = a as unknown as [string, string, string, string | undefined];
      if (kind === 'literal') data[key] = value ?? '';
      else if (value?.startsWith('<(openssl rand')) data[key] = { random: Number(value.match(/\d+/)?.[0]) };
      else data[key] = { file: value ?? key };
    }
    out.set(`${ns}/${name}`, data);
  }
  return out;
}

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
};

export function k8sRun(plane: Plane, tree: string): ManifestRun {
  const objects = render(path.join(DEPLOY, 'k8s', tree));
  const ns = `coffer-${plane}`;
  // Ingest is a Deployment; the vault and admin StatefulSets, for their state volumes.
  const kind = plane === 'ingest' ? 'Deployment' : 'StatefulSet';
  const deployment = objects.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === plane);
  if (!deployment) throw new Error(`${tree}: no ${kind} ${ns}/${plane}`);
  const container = containersOf(deployment).find((c) => c.name === plane);
  if (!container) throw new Error(`${tree}: no container ${plane}`);
  const readme = readmeObjects();
  const configMap = (name: string): Record<string, string> => {
    const rendered = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.namespace === ns && o.metadata.name === name,
    ) as (K8sObject & { data: Record<string, string> }) | undefined;
    const made = readme.get(`${ns}/${name}`) as Record<string, string> | undefined;
    const data = rendered?.data ?? made;
    if (!data) throw new Error(`${ns}: ConfigMap ${name} is neither in the manifests nor made by the README`);
    return data;
  };
  const env: Record<string, string> = {};
  for (const from of (container.envFrom ?? []) as { configMapRef?: { name: string } }[]) {
    if (!from.configMapRef) throw new Error(`${plane}: an envFrom source this test does not read`);
    Object.assign(env, configMap(from.configMapRef.name));
  }
  for (const e of (container.env ?? []) as EnvVar[]) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (ref) {
      const value = configMap(ref.name)[ref.key];
      if (value === undefined) throw new Error(`${ns}: ConfigMap ${ref.name} has no key ${ref.key}`);
      env[e.name] = value;
    } else throw new Error(`${plane}: env ${e.name} from a source this test does not read`);
  }
  // The Secret mounted at /run/secrets, with the keys the README puts in it.
  const mount = ((container.volumeMounts ?? []) as { name: string; mountPath: string }[]).find(
    (m) => m.mountPath === SECRETS_DIR,
  );
  const volume = ((podSpecOf(deployment)?.volumes ?? []) as { name: string; secret?: { secretName: string } }[]).find(
    (v) => v.name === mount?.name,
  );
  const secretName = volume?.secret?.secretName;
  const secret = secretName ? readme.get(`${ns}/${secretName}`) : undefined;
  if (!secret) throw new Error(`${ns}: the Secret mounted at ${SECRETS_DIR} (${secretName}) is not made by the README`);
  return { env, secrets: secret as Record<string, SecretSource> };
}

/** Every environment name the built service reads (tests/deploy/env-reads.mjs records them). */
export const ENV_READS_PRELOAD = path.join(ROOT, 'tests/deploy/env-reads.mjs');

/** A field of the last pino line with message `msg` in a process's output (undefined: none). */
export function loggedField(output: readonly string[], msg: string, field: string): unknown {
  let found: unknown;
  for (const line of output.join('').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg) found = entry[field];
    } catch {}
  }
  return found;
}
