/**
 * The browser's session: the token lives only in the `__Host-coffer` cookie (HttpOnly, Secure,
 * SameSite=Strict, Path=/). The admin plane hashes it for the vault and derives the session key
 * from it inside one request; it never stores it. State-changing requests also carry
 * X-Coffer-CSRF, derived from the token.
 */
import { csrfMatches, sessionTokenHash } from '@coffer/crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const COOKIE = '__Host-coffer';
export const CSRF_HEADER = 'x-coffer-csrf';

export interface SessionAuth {
  /** The raw token: only for deriving the session key in this request. */
  readonly token: string;
  /** SHA-256 of the token: what the vault knows the session by. */
  readonly hash: string;
}

/** The session this request presents, or undefined (no cookie, or not a token). */
export function presentedSession(req: FastifyRequest): SessionAuth | undefined {
  return sessionAuthOf(req.cookies[COOKIE]);
}

/** A token a cookie carries, with its hash; undefined when absent or not a token (never a 5xx). */
export function sessionAuthOf(token: string | undefined): SessionAuth | undefined {
  if (!token) return undefined;
  try {
    return { token, hash: sessionTokenHash(token) };
  } catch {
    return undefined;
  }
}

export function csrfPresent(req: FastifyRequest, session: SessionAuth): boolean {
  const header = req.headers[CSRF_HEADER];
  return csrfMatches(session.token, typeof header === 'string' ? header : undefined);
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  reply.setCookie(COOKIE, token, { httpOnly: true, secure, sameSite: 'strict', path: '/' });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(COOKIE, { httpOnly: true, secure, sameSite: 'strict', path: '/' });
}

// The characters an audit line must not carry (FREE_TEXT_PATTERN's set): stripped from origins.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** Where a request came from, for the audit log. */
export function originOf(req: FastifyRequest): string {
  // Bounded and NUL-free whatever the client sends: the audit event must always be writable.
  // Control and bidi characters go too (issue 9 item 14): an audit line cannot be spoofed.
  const clean = (s: string, n: number) => s.replace(UNSAFE_TEXT, '').slice(0, n);
  const agent = clean(String(req.headers['user-agent'] ?? ''), 120);
  return `${clean(req.ip, 64)}${agent ? ` ${agent}` : ''}`;
}
