/**
 * Talking to the admin API. The session token is an HttpOnly cookie this script never sees; the
 * CSRF value lives only in this module's memory and goes on every state-changing request.
 */

export interface User {
  readonly id: string;
  readonly email: string;
  readonly role: 'viewer' | 'key-admin' | 'auditor';
  readonly status?: string;
  readonly totp?: boolean;
  readonly mfa?: boolean;
}

/** GET /api/console: how long a revealed value stays on screen, and the idle sign-out. */
export interface Settings {
  readonly revealSeconds: number;
  readonly idleSeconds: number;
}

/** A record's metadata, as GET /api/records/search lists it. */
export interface RecordRow {
  id: string;
  type: 'pan' | 'ssn' | 'secret';
  hint: string | null;
  /** 'client': sealed by its submitter, so the hint is their claim, checked by nobody. Older vaults omit it. */
  hintSource?: 'ingest' | 'client';
  keyId: string;
  submittedAt: string;
}

/** A hint nobody checked: the submitter sealed the value and typed the last 4 themselves. */
export const clientHint = (r: RecordRow): boolean => r.hint !== null && r.hintSource === 'client';

/** An RFC 9457 problem from the API, or a network failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    /** The problem type without its urn:coffer:problem: prefix. */
    readonly type: string,
    message: string,
    readonly detail?: string,
    /** Seconds to wait (Retry-After), for 423 and 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** One sentence for a person: the title and, where given, what to do. */
  get sentence(): string {
    return this.detail ? `${this.message}. ${this.detail}.` : `${this.message}.`;
  }
}

let csrf: string | null = null;
let lastActivity = Date.now();
const listeners = new Set<() => void>();

export function setCsrf(value: string | null): void {
  csrf = value;
}

/** When the vault last saw this session (every API call keeps it alive). */
export function lastSeen(): number {
  return lastActivity;
}

/** Called with every 401: the session ended (idle, signed out elsewhere, revoked). */
export function onSessionEnded(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf && method !== 'GET') headers['x-coffer-csrf'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'network', 'The console cannot reach the server', 'Check your connection and try again');
  }
  if (res.ok) {
    lastActivity = Date.now();
    return res;
  }
  const problem = (await res.json().catch(() => null)) as { type?: string; title?: string; detail?: string } | null;
  const type = (problem?.type ?? 'unknown').replace(/^urn:coffer:problem:/, '');
  const retry = Number(res.headers.get('retry-after'));
  const error = new ApiError(
    res.status,
    type,
    problem?.title ?? `The server answered ${res.status}`,
    problem?.detail,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
  const signingIn = path === '/api/session' && method === 'POST';
  if (res.status === 401 && !signingIn && path !== '/api/session') for (const fn of listeners) fn();
  throw error;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  return (res.status === 204 ? null : await res.json()) as T;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
