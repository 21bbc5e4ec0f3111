export { REDACT_PATHS, redactingLogger } from './logger.ts';
export { installOpenApi, type OpenApiOptions } from './openapi.ts';
export { installProblemHandlers, installStrictJsonParser, type Problem, sendProblem } from './problem.ts';
export { ADMIN_TIMEOUTS, INGEST_TIMEOUTS, type ServerTimeouts, serverTimeoutOptions } from './timeouts.ts';
export { type HttpsListen, type HttpsServer, listenHttps, serve } from './tls-server.ts';
