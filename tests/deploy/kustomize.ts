/**
 * A small kustomize for the tests (no kustomize binary in CI): it renders exactly the features
 * deploy/k8s uses — resources (files and directories), configMapGenerator with `envs`/`files` and
 * no name hash, `images`, and strategic-merge `patches` — and refuses any other kustomization key,
 * so a manifest that starts using one fails here instead of rendering wrongly. tests/deploy/
 * k8s.test.ts compares its output with `kubectl kustomize` where kubectl is installed.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readYaml, readYamlDocuments } from './manifests.ts';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
  configMapGenerator?: { name: string; namespace?: string; envs?: string[]; files?: string[] }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path: string }[];
}

const KNOWN = new Set([
  'apiVersion',
  'kind',
  'resources',
  'generatorOptions',
  'configMapGenerator',
  'images',
  'patches',
]);

export function render(dir: string): K8sObject[] {
  const k = readYaml(path.join(dir, 'kustomization.yaml')) as Kustomization;
  const unknown = Object.keys(k).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new Error(`${dir}: kustomization keys this renderer does not support: ${unknown}`);
  const out: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    out.push(...(statSync(p).isDirectory() ? render(p) : (readYamlDocuments(p) as K8sObject[])));
  }
  for (const g of k.configMapGenerator ?? []) {
    if (!k.generatorOptions?.disableNameSuffixHash) throw new Error(`${dir}: name-hashed generators are not supported`);
    const data: Record<string, string> = {};
    for (const env of g.envs ?? []) {
      for (const line of readFileSync(path.join(dir, env), 'utf8').split('\n')) {
        if (!line.trim() || line.startsWith('#')) continue;
        const eq = line.indexOf('=');
        data[line.slice(0, eq)] = line.slice(eq + 1);
      }
    }
    for (const file of g.files ?? []) data[path.basename(file)] = readFileSync(path.join(dir, file), 'utf8');
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: g.name, ...(g.namespace ? { namespace: g.namespace } : {}) },
      data,
    });
  }
  for (const patch of k.patches ?? []) {
    for (const doc of readYamlDocuments(path.join(dir, patch.path)) as K8sObject[]) {
      const target = out.find(
        (o) =>
          o.kind === doc.kind &&
          o.apiVersion === doc.apiVersion &&
          o.metadata.name === doc.metadata.name &&
          o.metadata.namespace === doc.metadata.namespace,
      );
      if (!target)
        throw new Error(`${dir}/${patch.path}: no ${doc.kind} ${doc.metadata.namespace}/${doc.metadata.name}`);
      Object.assign(target, strategicMerge(target, doc));
    }
  }
  for (const image of k.images ?? []) {
    for (const c of out.flatMap(containersOf)) {
      const [name, tag] = splitImage(c.image);
      if (name !== image.name) continue;
      const ref = image.digest ? `@${image.digest}` : image.newTag ? `:${image.newTag}` : tag;
      c.image = `${image.newName ?? name}${ref}`;
    }
  }
  return out;
}

function splitImage(image: string): [string, string] {
  const at = image.indexOf('@');
  if (at >= 0) return [image.slice(0, at), image.slice(at)];
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon)] : [image, ''];
}

export interface Container {
  name: string;
  image: string;
  [key: string]: unknown;
}

/** The pod template of a workload (Deployment, StatefulSet, Job), if it is one. */
export function podSpecOf(o: K8sObject): Record<string, unknown> | undefined {
  if (!['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind)) return undefined;
  const spec = o.spec as { template?: { spec?: Record<string, unknown> } };
  return spec.template?.spec;
}

export function containersOf(o: K8sObject): Container[] {
  const pod = podSpecOf(o);
  return pod ? [...((pod.initContainers as Container[]) ?? []), ...((pod.containers as Container[]) ?? [])] : [];
}

// The merge keys of the lists deploy/k8s patches (Kubernetes' own patchMergeKey for each).
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

/** Kubernetes' strategic merge for the cases above: maps merge, keyed lists merge, others replace. */
export function strategicMerge(base: unknown, patch: unknown, key = ''): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const mergeKey = MERGE_KEYS[key];
    if (!mergeKey || !Array.isArray(base) || !patch.every((p) => p && typeof p === 'object' && mergeKey in p)) {
      return structuredClone(patch);
    }
    const merged = structuredClone(base) as Record<string, unknown>[];
    for (const item of patch as Record<string, unknown>[]) {
      const i = merged.findIndex((m) => m[mergeKey] === item[mergeKey]);
      if (i >= 0) merged[i] = strategicMerge(merged[i], item) as Record<string, unknown>;
      else merged.push(structuredClone(item));
    }
    return merged;
  }
  if (typeof patch === 'object' && base && typeof base === 'object' && !Array.isArray(base)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return structuredClone(patch);
}
