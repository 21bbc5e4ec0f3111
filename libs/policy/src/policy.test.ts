import { describe, expect, it } from 'vitest';
import { checkPassword } from './index.ts';

describe('password policy', () => {
  it.each([
    ['short', 'Tr0ub4dor&3', 'length'],
    ['14 characters', 'abcdefghijklmn', 'length'],
    ['long but guessable', 'passwordpassword123', 'strength'],
    ['keyboard walk', 'qwertyuiopasdfghjkl', 'strength'],
    ['contains the email local part', 'margaret.hamilton-lunar-orbit-77', 'email'],
    ['email local part in another case', 'MARGARET.HAMILTON-lunar-orbit-77', 'email'],
  ])('refuses %s', (_name, password, rule) => {
    const verdict = checkPassword(password, 'margaret.hamilton@example.com');
    expect(verdict).toMatchObject({ ok: false, rule });
    if (!verdict.ok) expect(verdict.detail).not.toContain(password);
  });

  it.each([['correct-quartz-lantern-harbour-91'], ['vK7#pL2!qZ9@xM4$wN8%']])('accepts %s', (password) => {
    expect(checkPassword(password, 'margaret.hamilton@example.com')).toEqual({ ok: true });
  });
});
