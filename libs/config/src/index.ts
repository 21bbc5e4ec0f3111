/**
 * @coffer/config — environment settings that a service reads once at start-up (among them the
 * HTTP settings ingest and admin share), and the TLS certificate files it checks before it
 * serves; a missing or bad one refuses the start in one line.
 */

export { httpSettings, httpsTls, refuseDatabaseUrl } from './http.ts';
export {
  asBoolean,
  asPort,
  asPositiveInt,
  asString,
  asTrustProxy,
  asUrl,
  ConfigError,
  loadOrRefuse,
  orRefuse,
  readConfig,
  refuseToStart,
  type Setting,
  setting,
} from './settings.ts';
export { loadTls, plaintextAllowed, type TlsMaterial, type TlsPaths, type TlsPrefix, tlsSettings } from './tls.ts';
