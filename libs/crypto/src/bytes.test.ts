import { describe, expect, it } from 'vitest';
import { codeOf } from '../testing/error-codes.ts';
import { recordBinding } from './bindings.ts';
import { i2osp, lengthPrefixed, utf8 } from './bytes.ts';

describe('i2osp', () => {
  it('writes big-endian unsigned integers of the given width', () => {
    expect(i2osp(0x0102, 2).toString('hex')).toBe('0102');
    expect(i2osp(0, 8).toString('hex')).toBe('0000000000000000');
    expect(i2osp(Number.MAX_SAFE_INTEGER, 8).toString('hex')).toBe('001fffffffffffff');
    expect(i2osp(255, 1).toString('hex')).toBe('ff');
  });

  it('refuses values it cannot write exactly, instead of writing something else', () => {
    for (const [value, width] of [
      [-1, 8],
      [-1_000, 8],
      [1.5, 8],
      [Number.NaN, 8],
      [Number.POSITIVE_INFINITY, 8],
      [2 ** 53, 8],
      [256, 1],
      [65536, 2],
    ] as const) {
      expect(
        codeOf(() => i2osp(value, width)),
        `${value} in ${width} bytes`,
      ).toBe('Malformed');
    }
  });
});

describe('strings as bytes', () => {
  it('refuses strings with unpaired surrogates, which UTF-8 would turn into U+FFFD', () => {
    for (const bad of ['alice\uD800', 'r\uDC00', '\uDFFF\uD800']) {
      expect(codeOf(() => utf8(bad))).toBe('Malformed');
      expect(codeOf(() => lengthPrefixed('label', bad))).toBe('Malformed');
    }
    expect(codeOf(() => recordBinding('r\uDC00', 'pan', 'k'))).toBe('Malformed');
  });

  it('encodes well-formed strings, surrogate pairs included', () => {
    expect(utf8('a\u{1F511}').toString('hex')).toBe('61f09f9491');
    expect(lengthPrefixed('ab', 'c').equals(lengthPrefixed('a', 'bc'))).toBe(false);
  });
});
