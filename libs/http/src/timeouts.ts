/**
 * How long a client may take, as fastify server options. Without these a client that sends half a
 * body and stalls holds its socket (and a slot of the rate limiter's attention) for minutes: Node's
 * own request timeout is 300 s and is only checked every 30 s.
 */
export interface ServerTimeouts {
  /** The request line and all headers must arrive within this. */
  readonly headersMs: number;
  /** The whole request, body included, must arrive within this. */
  readonly requestMs: number;
  /** A socket with no traffic either way is closed after this. */
  readonly idleMs: number;
  /** A kept-alive socket waits this long for the next request. */
  readonly keepAliveMs: number;
}

export const INGEST_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 20_000,
  idleMs: 30_000,
  keepAliveMs: 5_000,
};
// Admin responses (a CSV export) can stream for a while, but they write as they go, so the idle
// bound only closes sockets on which nothing moves.
export const ADMIN_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  idleMs: 60_000,
  keepAliveMs: 5_000,
};

/** The fastify options that enforce `t`. */
export function serverTimeoutOptions(t: ServerTimeouts) {
  // Node requires headersTimeout <= requestTimeout, and checks both only every
  // connectionsCheckingInterval: check often enough that the bounds mean what they say.
  const headersMs = Math.min(t.headersMs, t.requestMs);
  return {
    connectionTimeout: t.idleMs,
    keepAliveTimeout: t.keepAliveMs,
    requestTimeout: t.requestMs,
    http: {
      headersTimeout: headersMs,
      requestTimeout: t.requestMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersMs / 4))),
    },
  };
}
