/**
 * POST with one Idempotency-Key through every attempt, retrying what may succeed later: 429, 503,
 * and a network failure (the request may or may not have arrived — the same key makes a repeat
 * harmless). Backoff doubles from `baseMs` with full jitter, or follows Retry-After when given.
 */
import { SealError } from './errors.ts';

export interface RetryOptions {
  readonly attempts?: number;
  readonly baseMs?: number;
  readonly maxMs?: number;
}

const RETRYABLE = new Set([429, 503]);

async function problemOf(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

function retryAfterMs(res: Response): number | undefined {
  const header = res.headers.get('retry-after');
  if (!header || !/^[0-9]{1,4}$/.test(header)) return undefined;
  return Number(header) * 1000;
}

export async function postWithRetry(
  fetchFn: typeof fetch,
  url: string,
  body: string,
  idempotencyKey: string,
  options: RetryOptions = {},
): Promise<unknown> {
  const attempts = options.attempts ?? 5;
  const baseMs = options.baseMs ?? 250;
  const maxMs = options.maxMs ?? 8000;
  let lastStatus: number | undefined;
  let lastProblem: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let wait: number | undefined;
    try {
      const res = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body,
      });
      if (res.status === 202 || res.status === 200) return await res.json();
      lastStatus = res.status;
      lastProblem = await problemOf(res);
      if (!RETRYABLE.has(res.status)) {
        throw new SealError('Refused', `ingest refused the submission (HTTP ${res.status})`, {
          status: res.status,
          problem: lastProblem,
        });
      }
      wait = retryAfterMs(res);
    } catch (err) {
      if (err instanceof SealError) throw err;
      lastStatus = undefined;
      lastProblem = undefined;
    }
    if (attempt < attempts) {
      const backoff = Math.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      await new Promise((r) => setTimeout(r, Math.min(maxMs, wait ?? backoff)));
    }
  }
  throw new SealError('Unavailable', 'ingest stayed unavailable; nothing is known to be stored', {
    ...(lastStatus === undefined ? {} : { status: lastStatus }),
    problem: lastProblem,
  });
}
