/**
 * What the two planes that serve HTTP to clients (ingest and admin) both read at start-up: where
 * they listen, which proxies they trust for the client address, and COFFER_TLS_* to serve HTTPS
 * themselves. Both also refuse to start holding a database credential.
 */
import { asPort, asString, asTrustProxy, setting } from './settings.ts';
import { loadTls, type TlsMaterial, tlsSettings } from './tls.ts';

export function httpSettings(service: 'ingest' | 'admin', port: number) {
  const tls = tlsSettings('COFFER_TLS', `${service} serves HTTPS with`);
  return {
    trustProxy: setting(
      'COFFER_TRUST_PROXY',
      'proxies trusted for the client address',
      asTrustProxy,
      false as boolean | string[],
    ),
    host: setting('HOST', 'listen address', asString, '127.0.0.1'),
    port: setting('PORT', 'listen port', asPort, port),
    httpsCert: tls.cert,
    httpsKey: tls.key,
    httpsCa: tls.ca,
  };
}

/** COFFER_TLS_*: serve HTTPS directly (no terminating proxy in front); unset serves plain HTTP. */
export function httpsTls(config: { httpsCert: string; httpsKey: string; httpsCa: string }): TlsMaterial | undefined {
  return loadTls('COFFER_TLS', { cert: config.httpsCert, key: config.httpsKey, ca: config.httpsCa });
}

/** The start-up check of a plane that must never hold a database credential. */
export function refuseDatabaseUrl(plane: string): () => void {
  return () => {
    if (process.env.DATABASE_URL) throw new Error(`DATABASE_URL is set, but ${plane} must hold no database credential`);
  };
}
