/**
 * RFC 9457 problem details. Every error leaves as application/problem+json with a stable `type`;
 * `detail` describes the rule that failed and never echoes the request.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

export interface Problem {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .header('cache-control', 'no-store')
    .send({ ...problem, type: `urn:coffer:problem:${problem.type}` });
}

/** Map framework errors (schema, body size, media type, JSON syntax, rate limit) to problems. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((_req, reply) =>
    sendProblem(reply, { status: 404, type: 'not-found', title: 'No such route' }),
  );
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const first = err.validation[0];
      const where = first?.instancePath || (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
      return sendProblem(reply, {
        status: 400,
        type: 'invalid-body',
        title: 'The request body does not match the schema',
        detail: `${err.validationContext ?? 'body'}${where ? ` ${where}` : ''}: ${first?.message ?? 'invalid'}`,
      });
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, { status: 413, type: 'body-too-large', title: 'The request body is too large' });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, {
          status: 415,
          type: 'unsupported-media-type',
          title: 'The request body must be application/json',
        });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendProblem(reply, { status: 400, type: 'invalid-json', title: 'The request body is not valid JSON' });
    }
    // JSON.parse messages quote the body; never pass them on.
    if (err instanceof SyntaxError || err.statusCode === 400) {
      return sendProblem(reply, { status: 400, type: 'invalid-json', title: 'The request body is not valid JSON' });
    }
    if (err.statusCode === 429) {
      return sendProblem(reply, { status: 429, type: 'rate-limited', title: 'Too many requests' });
    }
    req.log.error({ code: err.code, name: err.name }, 'unhandled error');
    return sendProblem(reply, { status: 500, type: 'internal', title: 'Internal error' });
  });
}
