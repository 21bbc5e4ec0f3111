export { REDACT_PATHS, redactingLogger } from './logger.ts';
export { installOpenApi, type OpenApiOptions } from './openapi.ts';
export { installProblemHandlers, type Problem, sendProblem } from './problem.ts';
