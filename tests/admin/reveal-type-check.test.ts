/**
 * A value sealed by the submitter (browser SDK, @coffer/client) was never seen by ingest, so the
 * first check of its type is at reveal: the person is told, the value is still shown.
 */
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('reveal checks the value against its type', () => {
  let stack: AdminStack;
  let auth: Awaited<ReturnType<typeof signIn>>;
  beforeAll(async () => {
    stack = await startAdminStack();
    auth = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  it.each([
    ['pan', '4111111111111111', true],
    ['pan', 'not a card number', false],
    ['ssn', '666-12-3456', false],
  ] as const)('a %s holding %j: matchesType %s', async (type, value, matchesType) => {
    const id = await stack.addRecord(type, value, '1234');
    const res = await stack.app.inject({
      method: 'POST',
      url: `/api/records/${id}/reveal`,
      headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
      payload: { reason: 'ticket CHG-9: check a client-sealed record' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id, type, value, matchesType });
  });
});
