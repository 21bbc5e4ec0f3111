/**
 * Lockout through Unicode case folding (issue 9, item 7): `İ` lower-cases to `i` in PostgreSQL's
 * lookup but to `i̇` (two code points) in JavaScript, so each spelling used to be its own throttle
 * bucket. Attempts now count against the user, however the email is spelled.
 */
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('lockout and Unicode spellings of one email', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.close());

  const attempt = (email: string, password: string) =>
    stack.app.inject({ method: 'POST', url: '/api/session', payload: { email, password } });

  it("counts every spelling ('İ', upper case) against the one user: the eleventh attempt is locked", async () => {
    const dotted = ADMIN_EMAIL.replace(/i/g, 'İ');
    expect(dotted).not.toBe(ADMIN_EMAIL);
    expect(dotted.toLowerCase()).not.toBe(ADMIN_EMAIL); // JavaScript folds it differently …
    const spellings = [ADMIN_EMAIL, dotted, ADMIN_EMAIL.toUpperCase(), dotted.toUpperCase()];
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) {
      codes.push((await attempt(spellings[i % spellings.length] as string, `wrong-guess-${i}`)).statusCode);
    }
    // … but the dotted spelling finds the user (401 after a password check), and all count together.
    expect(codes).toEqual([...Array(10).fill(401), 423]);
    expect((await attempt(ADMIN_EMAIL, ADMIN_PASSWORD)).statusCode).toBe(423);
    expect((await attempt(dotted, ADMIN_PASSWORD)).statusCode).toBe(423);
  });
});
