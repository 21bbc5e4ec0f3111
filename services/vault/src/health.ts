/** The vault's HTTP side: liveness, readiness (database, bus, data key) and Prometheus metrics. */
import type { Bus } from '@coffer/bus';
import Fastify, { type FastifyInstance } from 'fastify';
import type postgres from 'postgres';
import type { CurrentKey } from './current-key.ts';
import type { VaultMetrics } from './metrics.ts';

export function healthServer(
  options: { readonly sql: postgres.Sql; readonly bus: Bus },
  currentKey: CurrentKey,
  metrics: VaultMetrics,
): FastifyInstance {
  const { sql, bus } = options;
  const http = Fastify({ logger: false });
  http.get('/healthz', async () => ({ status: 'live' }));
  http.get('/readyz', async (_req, reply) => {
    const database = await sql`SELECT 1`.then(
      () => true,
      () => false,
    );
    const ready = database && bus.isConnected();
    const key = currentKey.status;
    return reply.code(ready ? 200 : 503).send({
      status: !ready ? 'unavailable' : key.degraded ? 'degraded' : 'ready',
      database,
      bus: bus.isConnected(),
      dataKey: key,
    });
  });
  http.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  return http;
}
