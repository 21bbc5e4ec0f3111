/**
 * CORS for the two routes a browser SDK on the customer's page calls: GET /v1/keys/current and
 * POST /v1/sealed-records. Any origin, never credentials: the routes take no cookie or token, and
 * anything that is not a browser ignores CORS anyway, so a list of origins would protect nothing.
 * `Date` is exposed so the SDK can time-stamp its record id on ingest's clock (ingest checks
 * the id's freshness against that clock).
 */
import type { FastifyInstance } from 'fastify';

const BROWSER_ROUTES = new Set(['/v1/keys/current', '/v1/sealed-records']);

export function allowBrowserSealing(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply) => {
    if (!BROWSER_ROUTES.has(req.url)) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'Date, Retry-After');
  });
  app.options('/v1/sealed-records', async (_req, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'content-type, idempotency-key')
      .header('access-control-max-age', '600')
      .send(),
  );
}
