/**
 * What every Coffer process does with the bus: the same settings (for ingest and admin, with the
 * trust root and HTTP settings they share), one connection with its own credential, and the same
 * exit rules — a clean stop on SIGINT/SIGTERM, and exit 1 when the server refuses the connection
 * for good, so that a supervisor restarts the process.
 */
import {
  asString,
  asUrl,
  httpSettings,
  httpsTls,
  loadOrRefuse,
  loadTls,
  orRefuse,
  plaintextAllowed,
  refuseDatabaseUrl,
  type Setting,
  setting,
  type TlsMaterial,
  tlsSettings,
} from '@coffer/config';
import { PublicKey } from '@coffer/crypto';
import { busNames } from '@coffer/protocol';
import type { Bus } from './bus.ts';
import { connectNatsBus } from './nats-bus.ts';

type Service = 'ingest' | 'vault' | 'admin';

/**
 * The start-up of a plane that serves clients (ingest, admin): the settings both read — the pinned
 * trust root (what the vault sends them is checked against it), the bus, HTTP — with its own on
 * top, a refusal to start holding a database credential, then the bus and HTTPS certificates
 * checked. Any failure is the one-line refusal.
 */
export function loadServingPlane<S extends Record<string, Setting<unknown>>>(
  service: 'ingest' | 'admin',
  port: number,
  own: S,
) {
  const shared = {
    trustRoot: setting('COFFER_TRUST_ROOT', 'the org public key, base64url', (raw) =>
      PublicKey.fromBase64url('ed25519', raw),
    ),
    ...natsSettings(service),
    ...httpSettings(service, port),
  };
  const config = loadOrRefuse(
    service,
    { ...shared, ...own },
    refuseDatabaseUrl(service === 'admin' ? 'the admin plane' : 'ingest'),
  );
  // TypeScript does not resolve the shared keys through the generic `own`; they are there.
  const read = config as unknown as {
    [K in keyof typeof shared]: (typeof shared)[K] extends Setting<infer T> ? T : never;
  };
  const tls = orRefuse(service, () => ({ bus: busTls(read), https: httpsTls(read) }));
  return { config, tls };
}

export function natsSettings(service: Service) {
  return {
    natsUrl: setting('NATS_URL', 'NATS server URL', asUrl(['nats:', 'tls:']), 'nats://127.0.0.1:4222'),
    natsUser: setting('NATS_USER', `the ${service} plane's NATS user`, asString, ''),
    natsPassword: setting('NATS_PASSWORD', `the ${service} plane's NATS password`, asString, ''),
    namespace: setting('COFFER_BUS_NAMESPACE', 'bus name prefix (tests only)', asString, ''),
    ...busTlsSettings(service),
  };
}

function busTlsSettings(service: Service) {
  const tls = tlsSettings('NATS_TLS', `the ${service} plane presents to the bus`);
  return { natsTlsCert: tls.cert, natsTlsKey: tls.key, natsTlsCa: tls.ca };
}

/**
 * The bus link's TLS material, checked; undefined for a plaintext bus on this host. A bus across
 * a network is refused without it, and a password beside a certificate is refused too: with
 * mutual TLS the certificate is the plane's only bus credential (nats-server maps it to the user).
 */
export function busTls(config: NatsConfig): TlsMaterial | undefined {
  const tls = loadTls('NATS_TLS', {
    cert: config.natsTlsCert ?? '',
    key: config.natsTlsKey ?? '',
    ca: config.natsTlsCa ?? '',
  });
  const host = new URL(config.natsUrl).hostname;
  if (!tls && !plaintextAllowed(host)) {
    throw new Error(`NATS_URL points at ${host}, not this host: set NATS_TLS_CERT, NATS_TLS_KEY and NATS_TLS_CA`);
  }
  if (tls && (config.natsUser || config.natsPassword)) {
    throw new Error('NATS_USER/NATS_PASSWORD are set, but with NATS_TLS_* the certificate is the bus credential');
  }
  return tls;
}

export interface NatsConfig {
  readonly natsUrl: string;
  readonly natsUser: string;
  readonly natsPassword: string;
  readonly namespace: string;
  readonly natsTlsCert?: string;
  readonly natsTlsKey?: string;
  readonly natsTlsCa?: string;
}

export function connectService(
  config: NatsConfig,
  service: Service,
  options: { log?: (event: string) => void; replicas?: number; tls?: TlsMaterial | undefined } = {},
): Promise<Bus> {
  const tls = 'tls' in options ? options.tls : busTls(config);
  return connectNatsBus({
    url: config.natsUrl,
    names: busNames(config.namespace),
    service,
    user: config.natsUser || undefined,
    password: config.natsPassword || undefined,
    tls,
    ...(options.log ? { log: options.log } : {}),
    ...(options.replicas ? { replicas: options.replicas } : {}),
  });
}

export function stopOnSignals(bus: Bus, log: { error(msg: string): void }, stop: () => Promise<void>): void {
  let stopping = false;
  void bus.closed().then(() => {
    if (stopping) return;
    log.error('the bus connection closed for good; exiting');
    process.exit(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      stopping = true;
      await stop();
      await bus.close();
      process.exit(0);
    });
  }
}
