/**
 * The ingest plane assembled: security headers, rate limit, problem details, and the routes.
 * It holds the data public key and publish-only bus access — nothing that decrypts, no database.
 */
import type { Bus } from '@coffer/bus';
import type { PublicKey } from '@coffer/crypto';
import { installOpenApi, installProblemHandlers } from '@coffer/http';
import { DUPLICATE_WINDOW_MS } from '@coffer/protocol';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DataKeySource } from './data-key.ts';
import { IdempotencyCache } from './idempotency.ts';
import { currentKeyRoute } from './routes/current-key.ts';
import type { IngestDeps } from './routes/deps.ts';
import { healthRoutes } from './routes/health.ts';
import { submitRecordRoute } from './routes/submit-record.ts';

export interface IngestOptions {
  readonly bus: Bus;
  readonly trustRoot: PublicKey<'ed25519'>;
  readonly log: Logger;
  /** Submissions per client address per minute. */
  readonly ratePerMinute: number;
  readonly now?: () => Date;
  /** fastify trustProxy: whose X-Forwarded-For to believe for the client address. */
  readonly trustProxy?: boolean | string[];
}

export const BODY_LIMIT = 16 * 1024;

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
  });
  // JSON only: without this, fastify would parse text/plain and answer 400 instead of 415.
  app.removeContentTypeParser('text/plain');
  installProblemHandlers(app);
  await app.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  await app.register(rateLimit, { global: false });
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
    idempotency: new IdempotencyCache(DUPLICATE_WINDOW_MS),
    now,
    rateLimit: { max: options.ratePerMinute, timeWindow: 60_000 },
  };
  await app.register(submitRecordRoute, deps);
  await app.register(currentKeyRoute, deps);
  await app.register(healthRoutes, deps);
  app.addHook('onClose', async () => keys.stop());
  return { app, keys };
}
