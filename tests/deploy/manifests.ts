/** Reading the deployment files the manifest tests check: flows.yaml, compose, kustomize trees. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = path.join(ROOT, 'deploy');

export interface Flow {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: string;
  readonly why: string;
}

export interface Flows {
  readonly hosts: Record<string, string>;
  readonly flows: Flow[];
}

export function readFlows(): Flows {
  const doc = parse(readFileSync(path.join(DEPLOY, 'flows.yaml'), 'utf8')) as { version: number } & Flows;
  if (doc.version !== 1) throw new Error(`flows.yaml version ${doc.version} is not understood`);
  return { hosts: doc.hosts, flows: doc.flows };
}

/** A flow as one comparable string: "from -> to:port". */
export const flowKey = (f: { from: string; to: string; port: number }): string => `${f.from} -> ${f.to}:${f.port}`;

export function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'));
}

/** Every document of a multi-document YAML file (k8s manifests). */
export function readYamlDocuments(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Record<string, unknown> | null;
    return value ? [value] : [];
  });
}
