/**
 * The admin plane assembled: security headers, cookies, rate limits, problem details, the JSON
 * API and the portal. It has no database credential: every read and write is a request to the
 * vault over `vault.admin.*`, carrying the session token's hash.
 */
import { type Bus, trustVaultReplies } from '@coffer/bus';
import { enrollPassword, PASSWORD_PARAMS_FLOOR, type PasswordParams, type PublicKey } from '@coffer/crypto';
import {
  ADMIN_TIMEOUTS,
  installOpenApi,
  installProblemHandlers,
  type ServerTimeouts,
  serverTimeoutOptions,
} from '@coffer/http';
import { DEFAULT_DATA_KEY_DAYS } from '@coffer/protocol';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installGuards } from './guards.ts';
import { portal } from './portal.ts';
import { RevocationPin } from './revocation-pin.ts';
import { auditRoutes } from './routes/audit.ts';
import { decoyRoutes } from './routes/decoys.ts';
import type { AdminDeps } from './routes/deps.ts';
import { exportApprovalRoutes } from './routes/export-approvals.ts';
import { exportsRoute } from './routes/exports.ts';
import { keyRoutes } from './routes/keys.ts';
import { meRoutes } from './routes/me.ts';
import { orgConfigRoutes } from './routes/org-config.ts';
import { ownSessionRoutes } from './routes/own-sessions.ts';
import { passkeySigninRoutes } from './routes/passkey-signin.ts';
import { passkeyRoutes } from './routes/passkeys.ts';
import { peopleListRoutes } from './routes/people-list.ts';
import { recordsRoute } from './routes/records.ts';
import { resealRoutes } from './routes/reseal.ts';
import { revealRoute } from './routes/reveal.ts';
import { searchRoutes } from './routes/search.ts';
import { sessionRoutes } from './routes/session.ts';
import { sessionControlRoutes } from './routes/session-control.ts';
import { totpRoutes } from './routes/totp.ts';
import { userRoutes } from './routes/users.ts';

export interface AdminOptions {
  readonly bus: Bus;
  /** The org public key (COFFER_TRUST_ROOT). */
  readonly trustRoot: PublicKey<'ed25519'>;
  readonly dataKeyDays?: number;
  readonly log: Logger;
  /** false only for plain-HTTP dev mode on 127.0.0.1. */
  readonly secureCookie?: boolean;
  readonly signinPerMinute?: number;
  /** argon2id parameters for new hashes; a stored hash made with less is redone at sign-in. */
  readonly passwordParams?: PasswordParams;
  readonly now?: () => Date;
  /** fastify trustProxy: whose X-Forwarded-For to believe for the client address. */
  readonly trustProxy?: boolean | string[];
  /** How long a client may take to send a request (tests shorten them). */
  readonly timeouts?: ServerTimeouts;
  /** Seconds the portal keeps a revealed value on screen (COFFER_REVEAL_SECONDS); default 30. */
  readonly revealSeconds?: number;
  /** COFFER_REVOCATION_STATE_FILE: the revocation-list counter, remembered outside the database. */
  readonly revocationStateFile?: string;
  /**
   * COFFER_ACCEPT_UNSIGNED_VAULT_REPLIES: read vault replies that carry no signature, for an
   * installation whose vault reply key is not certified yet. Default false: every reply must be
   * signed by a vault key the trust root certified (a signed reply is always checked).
   */
  readonly acceptUnsignedVaultReplies?: boolean;
}

export async function buildAdmin(options: AdminOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    return503OnClosing: true,
    // A client that walked away from a stream must not hold shutdown open.
    forceCloseConnections: true,
    trustProxy: options.trustProxy ?? false,
    ...serverTimeoutOptions(options.timeouts ?? ADMIN_TIMEOUTS),
  });
  app.removeContentTypeParser('text/plain');
  installProblemHandlers(app);
  await app.register(helmet, { contentSecurityPolicy: { directives: CSP } });
  await app.register(cookie);
  await installOpenApi(app, OPENAPI);
  await app.register(rateLimit, { global: false });
  // Every callVault on this bus checks the vault's reply signature against the pinned trust root.
  trustVaultReplies(options.bus, {
    trustRoot: options.trustRoot,
    acceptUnsigned: options.acceptUnsignedVaultReplies ?? false,
  });
  const deps = await adminDeps(options);
  // The JSON API: its routes declare what they need in `config`; the guards apply it.
  await app.register(async (api) => {
    installGuards(api, deps.bus);
    for (const routes of API_ROUTES) await api.register(routes, deps);
    await api.register(ownSessionRoutes, { ...deps, revealSeconds: options.revealSeconds ?? 30 });
  });
  await app.register(portal);
  app.get('/healthz', async () => ({ status: 'live' }));
  app.get('/readyz', async (_req, reply) => {
    const bus = options.bus.isConnected();
    return reply.code(bus ? 200 : 503).send({ status: bus ? 'ready' : 'unavailable', bus });
  });
  return app;
}

/** The portal's Content-Security-Policy: its own scripts, styles and API, nothing inline, no frames. */
const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  connectSrc: ["'self'"],
  imgSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

const OPENAPI: Parameters<typeof installOpenApi>[1] = {
  title: 'Coffer admin',
  version: '1',
  description:
    'The staff API of the admin plane. A session is the __Host-coffer cookie from POST /api/session; ' +
    'state-changing calls also send X-Coffer-CSRF (the csrf value of the sign-in answer). ' +
    'Errors are RFC 9457 application/problem+json.',
  securitySchemes: {
    session: { type: 'apiKey', in: 'cookie', name: '__Host-coffer' },
    csrf: { type: 'apiKey', in: 'header', name: 'X-Coffer-CSRF' },
  },
  security: (config) =>
    config?.action === undefined ? undefined : [config.csrf ? { session: [], csrf: [] } : { session: [] }],
  include: (url) => url.startsWith('/api/') || url === '/healthz' || url === '/readyz',
};

/** The API's areas, registered in this order (the OpenAPI file follows it); a new area goes here. */
const API_ROUTES = [
  sessionRoutes,
  recordsRoute,
  revealRoute,
  exportsRoute,
  auditRoutes,
  userRoutes,
  meRoutes,
  totpRoutes,
  keyRoutes,
  resealRoutes,
  orgConfigRoutes,
  peopleListRoutes,
  searchRoutes,
  passkeyRoutes,
  passkeySigninRoutes,
  sessionControlRoutes,
  decoyRoutes,
  exportApprovalRoutes,
];

async function adminDeps(options: AdminOptions): Promise<AdminDeps> {
  return {
    bus: options.bus,
    now: options.now ?? (() => new Date()),
    secureCookie: options.secureCookie ?? true,
    // A password nobody knows, so that an unknown email costs the same argon2id call.
    dummyVerifier: (await enrollPassword(`dummy-${crypto.randomUUID()}`, options.passwordParams)).verifier,
    signinPerMinute: options.signinPerMinute ?? 20,
    passwordParams: options.passwordParams ?? PASSWORD_PARAMS_FLOOR,
    trustRoot: options.trustRoot,
    dataKeyDays: options.dataKeyDays ?? DEFAULT_DATA_KEY_DAYS,
    // Shared with the other admin replicas through the bus (none on the in-process dev bus).
    revocationPin: await RevocationPin.open(options.revocationStateFile, sharedPin(options)),
  };
}

function sharedPin(options: AdminOptions) {
  const cell = options.bus.sharedRevocations?.();
  return cell ? { cell, trustRoot: options.trustRoot } : undefined;
}
