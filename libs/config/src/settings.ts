/**
 * Configuration from the environment. A service that lacks what it needs refuses to start with a
 * one-line reason; `readConfig` collects every problem so the operator fixes them in one pass.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export interface Setting<T> {
  /** Environment variable name. */
  readonly name: string;
  /** What it is, for the refusal message. */
  readonly what: string;
  /** Parse the raw value; throw an Error whose message says what is wrong (never echo secrets). */
  readonly parse: (raw: string) => T;
  /** Used when the variable is unset; a setting without a default is required. */
  readonly fallback?: T;
}

export function setting<T>(name: string, what: string, parse: (raw: string) => T, fallback?: T): Setting<T> {
  return fallback === undefined ? { name, what, parse } : { name, what, parse, fallback };
}

export function readConfig<S extends Record<string, Setting<unknown>>>(
  settings: S,
  env: Env = process.env,
): { [K in keyof S]: S[K] extends Setting<infer T> ? T : never } {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(settings)) {
    const raw = env[s.name];
    if (raw === undefined || raw === '') {
      if ('fallback' in s) out[key] = s.fallback;
      else problems.push(`${s.name} is not set (${s.what})`);
      continue;
    }
    try {
      out[key] = s.parse(raw);
    } catch (err) {
      problems.push(`${s.name} is invalid: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return out as { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };
}

export const asString = (raw: string): string => raw;

export function asPort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('must be a port number 0-65535');
  return n;
}

export function asPositiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error('must be a positive integer');
  return n;
}

export function asUrl(protocols: readonly string[]) {
  return (raw: string): string => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error('must be a URL');
    }
    if (!protocols.includes(url.protocol)) throw new Error(`must be a ${protocols.join(' or ')} URL`);
    return raw;
  };
}

/** Print the one-line refusal and exit; for main.ts only. */
export function refuseToStart(service: string, err: unknown): never {
  const reason = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${service}: refusing to start: ${reason}\n`);
  process.exit(1);
}

/**
 * Which proxies to trust for the client address (rate limits and audit origins key on it):
 * "false" (default: the peer), "true" (any), or a comma-separated list of proxy addresses or
 * CIDRs — fastify's trustProxy.
 */
export function asTrustProxy(raw: string): boolean | string[] {
  if (raw === 'false') return false;
  if (raw === 'true') return true;
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || !list.every((s) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(s))) {
    throw new Error('must be true, false, or proxy addresses/CIDRs separated by commas');
  }
  return list;
}

export function asBoolean(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error('must be true or false');
}

/** Load a service's settings, or print the one-line refusal and exit. */
export function loadOrRefuse<S extends Record<string, Setting<unknown>>>(
  service: string,
  settings: S,
  check?: () => void,
): { [K in keyof S]: S[K] extends Setting<infer T> ? T : never } {
  try {
    check?.();
    return readConfig(settings);
  } catch (err) {
    refuseToStart(service, err);
  }
}

/** Run a start-up step that may throw (reading certificate files, say), or refuse to start. */
export function orRefuse<T>(service: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    refuseToStart(service, err);
  }
}
