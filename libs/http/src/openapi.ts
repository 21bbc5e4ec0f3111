/**
 * OpenAPI 3.1 generated from each route's own schemas (@fastify/swagger), served at
 * GET /openapi.json. Register it before the routes: it records them as they are added. The
 * committed copies under docs/openapi/ are checked against this output by a test.
 */
import swagger from '@fastify/swagger';
import type { FastifyContextConfig, FastifyInstance } from 'fastify';

export interface OpenApiOptions {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  /** Security schemes of the document, and which a route needs given its config. */
  readonly securitySchemes?: Record<string, Record<string, unknown>>;
  readonly security?: (config: FastifyContextConfig | undefined) => Record<string, string[]>[] | undefined;
  /** Which routes the document describes (default: all); others, such as static pages, are left out. */
  readonly include?: (url: string) => boolean;
}

export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version, description: options.description },
      ...(options.securitySchemes ? { components: { securitySchemes: options.securitySchemes } } : {}),
    },
    transform: ({ schema, url, route }) => {
      if (options.include && !options.include(url)) return { schema: { ...schema, hide: true }, url };
      const security = options.security?.(route.config as FastifyContextConfig | undefined);
      return { schema: security ? { ...schema, security } : schema, url };
    },
  } as Parameters<typeof swagger>[1]);
  app.get('/openapi.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'no-cache').send(app.swagger()),
  );
}
