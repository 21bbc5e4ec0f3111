import { checkValue, hintFits, RECORD_TYPES } from '@coffer/protocol';
import { describe, expect, it } from 'vitest';
import { decoyValue, hintOf, luhnDigit } from './decoy-values.ts';

describe('decoy values (issue 16, item 3)', () => {
  it.each(RECORD_TYPES)('every generated %s passes the checks a real one passes, with a hint that fits', (type) => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const value = decoyValue(type);
      expect(checkValue(type, value), value).toMatchObject({ ok: true });
      expect(hintFits(type, hintOf(type, value))).toBe(true);
      seen.add(value);
    }
    expect(seen.size).toBeGreaterThan(1990); // random, not a handful of patterns
  });

  it('computes the Luhn digit of known card numbers', () => {
    for (const pan of ['4111111111111111', '5555555555554444', '378282246310005', '4012888888881881']) {
      expect(luhnDigit(pan.slice(0, -1))).toBe(pan.at(-1));
    }
  });
});
