/**
 * The ingest plane assembled: security headers, rate limit, problem details, and the routes.
 * It holds the data public key and publish-only bus access — nothing that decrypts, no database.
 */
import type { Bus } from '@coffer/bus';
import type { PublicKey } from '@coffer/crypto';
import {
  INGEST_TIMEOUTS,
  installOpenApi,
  installProblemHandlers,
  installStrictJsonParser,
  type ServerTimeouts,
  serverTimeoutOptions,
} from '@coffer/http';
import { DUPLICATE_WINDOW_MS } from '@coffer/protocol';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { DataKeySource } from './data-key.ts';
import { GroupCommit, type GroupCommitOptions } from './group-commit.ts';
import { IdempotencyCache } from './idempotency.ts';
import { RecordSealer, type RecordSealerOptions } from './record-sealer.ts';
import { allowBrowserSealing } from './routes/browser-cors.ts';
import { currentKeyRoute } from './routes/current-key.ts';
import type { IngestDeps } from './routes/deps.ts';
import { healthRoutes } from './routes/health.ts';
import { submitRecordRoute } from './routes/submit-record.ts';
import { submitSealedRecordRoute } from './routes/submit-sealed-record.ts';
import type { SharedIdempotency } from './shared-idempotency.ts';

export interface IngestOptions {
  readonly bus: Bus;
  readonly trustRoot: PublicKey<'ed25519'>;
  readonly log: Logger;
  /** Submissions per client address per minute. */
  readonly ratePerMinute: number;
  readonly now?: () => Date;
  /** fastify trustProxy: whose X-Forwarded-For to believe for the client address. */
  readonly trustProxy?: boolean | string[];
  /** Idempotency-Key shared by all replicas; without it, each process remembers its own. */
  readonly sharedIdempotency?: SharedIdempotency;
  /** How long a client may take to send a request (tests shorten them). */
  readonly timeouts?: ServerTimeouts;
  /** Idempotency cache bounds (tests shrink them). */
  readonly idempotency?: { maxEntries?: number; maxBytes?: number };
  /** Record contexts: records per context and a context's longest life. */
  readonly contexts?: RecordSealerOptions;
  /** Group commit: records per bus message and the longest wait for more. */
  readonly groupCommit?: GroupCommitOptions;
}

export const BODY_LIMIT = 16 * 1024;

/**
 * What @fastify/helmet would set for a JSON API that nothing may frame or load as a page, written
 * once instead of recomputed per request (ingest's hot path answers thousands a second).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

export async function buildIngest(options: IngestOptions): Promise<{ app: FastifyInstance; keys: DataKeySource }> {
  const now = options.now ?? (() => new Date());
  const keys = new DataKeySource(options.bus, options.trustRoot, options.log, now);
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Never coerce "4111…" from a number, never drop unknown fields silently: refuse both.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
    ...serverTimeoutOptions(options.timeouts ?? INGEST_TIMEOUTS),
    // One line per request (below), not fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        url: req.routeOptions.url ?? 'unknown',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });
  // JSON only: without this, fastify would parse text/plain and answer 400 instead of 415.
  app.removeContentTypeParser('text/plain');
  installStrictJsonParser(app);
  installProblemHandlers(app);
  await app.register(rateLimit, { global: false });
  const sealer = new RecordSealer(options.contexts);
  await installOpenApi(app, {
    title: 'Coffer ingest',
    version: '1',
    description:
      'The public, write-only API: submit a value, get the current data key bundle. ' +
      'Errors are RFC 9457 application/problem+json.',
  });
  const deps: IngestDeps = {
    bus: options.bus,
    keys,
    sealer,
    commit: new GroupCommit(options.bus, options.groupCommit),
    idempotency: new IdempotencyCache(DUPLICATE_WINDOW_MS, options.idempotency),
    sharedIdempotency: options.sharedIdempotency,
    now,
    rateLimit: { max: options.ratePerMinute, timeWindow: 60_000 },
  };
  await app.register(submitRecordRoute, deps);
  allowBrowserSealing(app);
  await app.register(submitSealedRecordRoute, deps);
  await app.register(currentKeyRoute, deps);
  await app.register(healthRoutes, deps);
  app.addHook('onClose', async () => {
    deps.idempotency.clear();
    sealer.close();
    return keys.stop();
  });
  return { app, keys };
}
