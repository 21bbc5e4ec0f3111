/**
 * What every Coffer process does with the bus: the same four settings, one connection with its
 * own credential, and the same exit rules — a clean stop on SIGINT/SIGTERM, and exit 1 when the
 * server refuses the connection for good, so that a supervisor restarts the process.
 */
import { asString, asUrl, setting } from '@coffer/config';
import { busNames } from '@coffer/protocol';
import type { Bus } from './bus.ts';
import { connectNatsBus } from './nats-bus.ts';

type Service = 'ingest' | 'vault' | 'admin';

export function natsSettings(service: Service) {
  return {
    natsUrl: setting('NATS_URL', 'NATS server URL', asUrl(['nats:', 'tls:']), 'nats://127.0.0.1:4222'),
    natsUser: setting('NATS_USER', `the ${service} plane's NATS user`, asString, ''),
    natsPassword: setting('NATS_PASSWORD', `the ${service} plane's NATS password`, asString, ''),
    namespace: setting('COFFER_BUS_NAMESPACE', 'bus name prefix (tests only)', asString, ''),
  };
}

export interface NatsConfig {
  readonly natsUrl: string;
  readonly natsUser: string;
  readonly natsPassword: string;
  readonly namespace: string;
}

export function connectService(
  config: NatsConfig,
  service: Service,
  options: { log?: (event: string) => void; replicas?: number } = {},
): Promise<Bus> {
  return connectNatsBus({
    url: config.natsUrl,
    names: busNames(config.namespace),
    service,
    user: config.natsUser || undefined,
    password: config.natsPassword || undefined,
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
