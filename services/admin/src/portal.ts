/**
 * The staff portal: the built console (services/admin/web, built by `pnpm build:portal` into
 * portal-dist/), served under the strict CSP. index.html is never cached and names each asset with
 * its sha384 integrity; assets carry a content hash in their name, so they are cached for good.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sendProblem } from '@coffer/http';
import type { FastifyPluginAsync } from 'fastify';

export const PORTAL_DIST = join(import.meta.dirname, '..', 'portal-dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export const portal: FastifyPluginAsync = async (app) => {
  const index = join(PORTAL_DIST, 'index.html');
  const html = existsSync(index) ? readFileSync(index) : undefined;
  app.get('/', async (_req, reply) => {
    if (!html) {
      return sendProblem(reply, {
        status: 503,
        type: 'portal-not-built',
        title: 'The portal is not built: run pnpm build:portal',
      });
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });
  const assets = join(PORTAL_DIST, 'assets');
  if (existsSync(assets)) {
    for (const name of readdirSync(assets)) {
      const type = TYPES[name.slice(name.lastIndexOf('.'))];
      if (!type) continue;
      const body = readFileSync(join(assets, name));
      app.get(`/assets/${name}`, async (_req, reply) =>
        reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').send(body),
      );
    }
  }
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
};
