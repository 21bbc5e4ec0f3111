/**
 * Serve a built Fastify app over HTTPS, for deployments without a TLS-terminating proxy in front.
 * The app is assembled the same way with or without TLS; only the listening socket differs, so
 * this wraps the app's router (fastify.routing) in a node:https server rather than threading
 * server options through every app builder.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface HttpsListen {
  readonly host: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
}

export interface HttpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function listenHttps(app: FastifyInstance, options: HttpsListen): Promise<HttpsServer> {
  await app.ready();
  const server = https.createServer({ cert: options.cert, key: options.key, minVersion: 'TLSv1.2' }, (req, res) =>
    app.routing(req, res),
  );
  // Fastify's own defaults for its http server: idle keep-alive connections outlive a typical
  // load balancer's, and a slow client cannot hold a request open forever.
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    url: `https://${shown}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await app.close();
    },
  };
}

/** Listen over HTTPS when certificate material is given, else plain HTTP (behind a proxy, or dev). */
export async function serve(
  app: FastifyInstance,
  options: { host: string; port: number; tls: { cert: string; key: string } | undefined },
): Promise<HttpsServer> {
  if (options.tls) return listenHttps(app, { host: options.host, port: options.port, ...options.tls });
  const url = await app.listen({ host: options.host, port: options.port });
  return { url, close: () => app.close() };
}
