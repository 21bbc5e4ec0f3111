/**
 * The password policy, one for every place a password is set (bootstrap, invite acceptance,
 * change, reset): at least 15 characters, zxcvbn score 4, and not built on the email's local part.
 * The refusal names the rule; it never repeats the password.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

export const MIN_PASSWORD_LENGTH = 15;

/** The policy in words, for anyone about to choose a password (it completes "a password must be …"). */
export const PASSWORD_POLICY =
  `at least ${MIN_PASSWORD_LENGTH} characters and hard to guess (zxcvbn score 4: say four or more unrelated ` +
  'words, or random characters), and must not contain the part of the email address before the @';

let zxcvbn: ZxcvbnFactory | undefined;

function estimator(): ZxcvbnFactory {
  zxcvbn ??= new ZxcvbnFactory({
    translations,
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
  });
  return zxcvbn;
}

export type PasswordVerdict = { ok: true } | { ok: false; rule: 'length' | 'strength' | 'email'; detail: string };

export function checkPassword(password: string, email: string): PasswordVerdict {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    return { ok: false, rule: 'length', detail: `the password must be at least ${MIN_PASSWORD_LENGTH} characters` };
  }
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 3 && password.toLowerCase().includes(local)) {
    return { ok: false, rule: 'email', detail: 'the password must not contain the local part of the email address' };
  }
  const result = estimator().check(password, [email, local]);
  if (result.score < 4) {
    const hint = result.feedback.warning ? ` (${result.feedback.warning})` : '';
    return { ok: false, rule: 'strength', detail: `the password is too easy to guess${hint}` };
  }
  return { ok: true };
}

/**
 * The verdict of `checkPassword` with the estimator's score (0–4) beside it, for a strength meter
 * that shows the very rule the server applies.
 */
export function passwordStrength(password: string, email: string): { score: number; verdict: PasswordVerdict } {
  const verdict = checkPassword(password, email);
  const score = password ? estimator().check(password, [email, email.split('@')[0] ?? '']).score : 0;
  return { score: verdict.ok ? 4 : Math.min(score, 3), verdict };
}
