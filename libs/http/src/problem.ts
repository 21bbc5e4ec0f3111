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

const NOT_UTF8 = 'COFFER_BODY_NOT_UTF8';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON bodies decoded strictly. fastify's own parser decodes with replacement, so an invalid byte
 * in a value would silently become U+FFFD and be stored as something the caller never sent; here
 * the raw bytes are checked first, and fastify's parser (prototype-poisoning checks included)
 * then parses the decoded text. Install before the routes.
 */
export function installStrictJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
      // The raw bytes hold the value; the parsed strings cannot be wiped, but this buffer can.
      (body as Buffer).fill(0);
    } catch {
      (body as Buffer).fill(0);
      return done(Object.assign(new Error('body is not UTF-8'), { code: NOT_UTF8, statusCode: 400 }), undefined);
    }
    parseJson(req, text, done);
  });
}

/** Map framework errors (schema, body size, media type, JSON syntax, rate limit) to problems. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((_req, reply) =>
    sendProblem(reply, { status: 404, type: 'not-found', title: 'No such route' }),
  );
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const first = err.validation[0];
      const params = first?.params as { missingProperty?: string; allowedValues?: unknown[] } | undefined;
      const where = first?.instancePath || params?.missingProperty;
      // An enum's allowed values are the schema's own words, never the caller's, so they may be listed.
      const allowed = Array.isArray(params?.allowedValues) ? ` (${params.allowedValues.join(', ')})` : '';
      const message = `${first?.message ?? 'invalid'}${allowed}`;
      if (err.validationContext === 'headers') {
        const field = (where ?? '').replace(/^\//, '');
        return sendProblem(reply, {
          status: 400,
          type: 'invalid-header',
          title: 'A request header is not valid',
          detail: `header ${field}: ${message}`,
          field,
        });
      }
      // A query or path parameter is named in `field` too, as a header is (issue 9 items 11/15).
      const named = err.validationContext === 'querystring' || err.validationContext === 'params';
      const field = (where ?? '').replace(/^\//, '');
      return sendProblem(reply, {
        status: 400,
        type: 'invalid-body',
        title: 'The request body does not match the schema',
        detail: `${err.validationContext ?? 'body'}${where ? ` ${where}` : ''}: ${message}`,
        ...(named && field ? { field } : {}),
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
      case NOT_UTF8:
        return sendProblem(reply, {
          status: 400,
          type: 'invalid-encoding',
          title: 'The request body is not valid UTF-8',
          detail:
            'Nothing was stored: a byte sequence in the body is not UTF-8, and it is never replaced or guessed at.',
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
