import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from './app.ts';

// Ingest writes its security headers once instead of running helmet per request: they must stay
// exactly what helmet gives for a policy of nothing but default-src 'none' and frame-ancestors
// 'none' (helmet used to merge its page defaults into ingest's policy; a JSON API needs none).
describe('ingest security headers', () => {
  it('are the headers @fastify/helmet sets for a JSON API nothing may frame', async () => {
    const app = Fastify();
    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    });
    app.get('/', async () => ({}));
    const res = await app.inject({ method: 'GET', url: '/' });
    const fromHelmet = Object.fromEntries(Object.keys(SECURITY_HEADERS).map((name) => [name, res.headers[name]]));
    expect(fromHelmet).toEqual(SECURITY_HEADERS);
    const helmetNames = Object.keys(res.headers).filter(
      (h) => !['content-type', 'content-length', 'date', 'connection'].includes(h),
    );
    expect(helmetNames.sort()).toEqual(Object.keys(SECURITY_HEADERS).sort());
    await app.close();
  });
});
