/**
 * What the two submit routes (POST /v1/records, POST /v1/sealed-records) share: the optional
 * Idempotency-Key header, and the answer when the bus does not take a record.
 */
import { BusUnavailableError } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
});

export function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  return (req.headers as { 'idempotency-key'?: string })['idempotency-key'];
}

/**
 * 503 bus-unavailable for a publish the bus refused (any other error is thrown on): the stream may
 * or may not hold the record, so `retry` tells the client how to retry without making two.
 */
export function busUnavailable(reply: FastifyReply, err: unknown, retry: string): FastifyReply {
  if (!(err instanceof BusUnavailableError)) throw err;
  return sendProblem(reply, {
    status: 503,
    type: 'bus-unavailable',
    title: 'The record could not be handed to the bus',
    detail: `It may or may not have been stored: ${retry}`,
  });
}
