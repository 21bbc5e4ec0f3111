import { PASSWORD_PARAMS_FLOOR } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('raising the argon2id parameters', () => {
  let stack: AdminStack;
  const raised = { ...PASSWORD_PARAMS_FLOOR, iterations: PASSWORD_PARAMS_FLOOR.iterations + 1 };
  beforeAll(async () => {
    // The ceremony hashed the password at the floor; this admin plane now asks for more.
    stack = await startAdminStack({ passwordParams: raised });
  });
  afterAll(() => stack?.close());

  const verifier = async () =>
    (await stack.db.owner`SELECT password_verifier FROM users`)[0]?.password_verifier as string;

  it('rehashes at the next sign-in, re-wraps the key, and the password still works', async () => {
    expect(await verifier()).toContain(`t=${PASSWORD_PARAMS_FLOOR.iterations},`);
    await signIn(stack.app);
    expect(await verifier()).toContain(`t=${raised.iterations},`);
    const events = await stack.db
      .owner`SELECT details FROM audit_events WHERE action = 'signin' AND outcome = 'success' ORDER BY seq`;
    expect(events.map((e) => e.details?.rehashed)).toEqual([true]);
    const again = await signIn(stack.app);
    expect(again.res.statusCode).toBe(200);
    const after = await stack.db
      .owner`SELECT details FROM audit_events WHERE action = 'signin' AND outcome = 'success' ORDER BY seq`;
    expect(after.map((e) => e.details?.rehashed)).toEqual([true, false]);
  });
});
