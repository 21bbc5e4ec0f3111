export { REDACT_PATHS, redactingLogger } from './logger.ts';
export { installProblemHandlers, type Problem, sendProblem } from './problem.ts';
export { type HttpsListen, type HttpsServer, listenHttps, serve } from './tls-server.ts';
