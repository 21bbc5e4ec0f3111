/**
 * Input checks a JSON schema pattern cannot express (issue 9, item 11), applied at the edge so bad
 * input is a 400 and never reaches the vault: an instant whose calendar date does not exist
 * (`2024-02-30` — `Date.parse` quietly rolls it into March), and an id that is not a UUID.
 */
import { sendProblem } from '@coffer/http';
import type { FastifyReply } from 'fastify';

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** Whether `s` (already shaped YYYY-MM-DDTHH:MM:SS[.sss]Z) names a real instant. */
export function isRealInstant(s: string): boolean {
  const t = Date.parse(s);
  if (Number.isNaN(t)) return false;
  const d = new Date(t);
  const [date, time] = s.split('T') as [string, string];
  const [y, m, day] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  return (
    d.getUTCFullYear() === y &&
    d.getUTCMonth() + 1 === m &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hh &&
    d.getUTCMinutes() === mm
  );
}

/** 400 naming the first field of `fields` that holds an impossible instant; undefined when all are real. */
export function refuseImpossibleInstants(
  reply: FastifyReply,
  fields: Record<string, string | undefined>,
): FastifyReply | undefined {
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && !isRealInstant(value)) {
      return sendProblem(reply, {
        status: 400,
        type: 'bad-request',
        title: 'The request is not valid',
        detail: `${name} is not a real date and time`,
      });
    }
  }
  return undefined;
}

/** Digits only (the schema's part); the range is checked by `pageLimit`, which can say it. */
export const LIMIT_DIGITS = '^[0-9]{1,16}$';
/** The most rows one page may ask for. */
export const MAX_PAGE = 500;

/**
 * A page size from the query (issue 9 items 11/15): a number out of 1..MAX_PAGE is refused with a
 * 400 that names the field and its range, never quietly clamped. Returns the number, or the reply
 * already sent.
 */
export function pageLimit(reply: FastifyReply, value: string | undefined, fallback: number): number | FastifyReply {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (Number.isSafeInteger(n) && n >= 1 && n <= MAX_PAGE) return n;
  return sendProblem(reply, {
    status: 400,
    type: 'invalid-query',
    title: 'A query parameter is not valid',
    detail: `limit must be a whole number from 1 to ${MAX_PAGE}`,
    field: 'limit',
  });
}
