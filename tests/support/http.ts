// HTTP and timing helpers: submissions as a client makes them, bounded polling, a worker pool.
import type { RecordType, Sample } from './values.ts';

export interface Accepted {
  readonly id: string;
  readonly type: RecordType;
  readonly hint: string | null;
  readonly keyId: string;
}

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
}

export async function submit(
  baseUrl: string,
  sample: Pick<Sample, 'type' | 'value'>,
  idempotencyKey?: string,
): Promise<Answer> {
  const res = await fetch(`${baseUrl}/v1/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify({ type: sample.type, value: sample.value }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { unparsed: text };
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
}

export async function getStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Run `work` over `items` with at most `concurrency` in flight, in item order. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `probe` until it returns something other than undefined/false, or fail after `timeoutMs`
 * naming what was awaited and the last value seen, so a stuck pipeline fails instead of hanging.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    await sleep(intervalMs);
  }
}

/**
 * `get` every 100 ms until `done` accepts its value (at most `tries` times, 30 s by default); unlike
 * waitFor, an error from `get` ends the wait at once.
 */
export async function until<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await get();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
