import { describe, expect, it } from 'vitest';
import { valueMatchesType } from './value-type.ts';

const check = (type: string, bytes: Uint8Array) => valueMatchesType(type, bytes, Buffer.from(bytes).toString('utf8'));

describe('valueMatchesType', () => {
  it.each([
    ['pan', '4111111111111111', true],
    ['pan', '4111 1111 1111 1111', false], // not the normal form ingest seals
    ['pan', '4111111111111112', false],
    ['pan', 'not a card', false],
    ['ssn', '123-45-6789', true],
    ['ssn', '123456789', false],
    ['secret', 'anything at all', true],
  ])('%s %j → %s', (type, value, expected) => {
    expect(check(type, Buffer.from(value))).toBe(expected);
  });

  it('refuses bytes that are not UTF-8, even for a secret', () => {
    expect(check('secret', Uint8Array.of(0x61, 0xff, 0x62))).toBe(false);
  });
});
