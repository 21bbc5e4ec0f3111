/**
 * The usual frame of an admin test file: skip without PostgreSQL and NATS (COFFER_REQUIRE_SERVICES=1
 * fails instead), and one stack per describe block with the first key-admin signed in. Apart from
 * admin-stack.ts, which benchmarks import too, since this one registers vitest hooks.
 */
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll } from 'vitest';
import { type AdminStack, type Signed, signIn, startAdminStack } from './admin-stack.ts';

export const stackAvailable = (await postgresAvailable()) && (await natsForTests()) !== undefined;

/** Started before the block's tests, closed after them; read `stack` and `admin` inside the tests. */
export function signedInStack(options: Parameters<typeof startAdminStack>[0] = {}): {
  readonly stack: AdminStack;
  readonly admin: Signed;
} {
  const held = {} as { stack: AdminStack; admin: Signed };
  beforeAll(async () => {
    held.stack = await startAdminStack(options);
    held.admin = await signIn(held.stack.app);
  });
  afterAll(() => held.stack?.close());
  return held;
}
