import { describe, expect, it } from 'vitest';
import { checkValue, RECORD_TYPES, type RecordType } from './values.ts';

/** Appends the Luhn check digit that makes `body` valid; computed independently of the module. */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(body.length - 1 - i) - 48;
    // Once the check digit is appended, the rightmost body digit sits in a doubled position.
    const v = i % 2 === 0 ? d * 2 : d;
    sum += v > 9 ? v - 9 : v;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/** A Luhn-valid Visa-like PAN of exactly `length` digits. */
const panOfLength = (length: number): string => withCheckDigit(`4${'1234567890'.repeat(2)}`.slice(0, length - 1));

/** The same PAN with its check digit moved by `delta` (mod 10), so it fails Luhn. */
function shiftLast(pan: string, delta: number): string {
  const last = pan.charCodeAt(pan.length - 1) - 48;
  return pan.slice(0, -1) + String((last + delta + 10) % 10);
}

/** How a value appears in a test title: long strings would drown the report. */
function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string' && value.length > 40) return `${JSON.stringify(value.slice(0, 12))}… (${value.length})`;
  return JSON.stringify(value) ?? String(value);
}

interface Accept {
  type: RecordType;
  label: string;
  value: string;
  normalized: string;
  hint: string | null;
}
interface Refuse {
  type: RecordType;
  label: string;
  value: unknown;
  rule: string;
}
const ok = (type: RecordType, value: string, normalized: string, hint: string | null): Accept => ({
  type,
  label: show(value),
  value,
  normalized,
  hint,
});
const no = (type: RecordType, value: unknown, rule: string): Refuse => ({ type, label: show(value), value, rule });

const VISA = '4111111111111111';
const KNOWN_PANS = [VISA, '5555555555554444', '378282246310005', '6011111111111117'];
const a = (n: number): string => 'a'.repeat(n);

describe('withCheckDigit (test helper)', () => {
  it.each(KNOWN_PANS)('rebuilds %s from its body', (pan) => {
    expect(withCheckDigit(pan.slice(0, -1))).toBe(pan);
  });
});

const ACCEPTED: Accept[] = [
  ...KNOWN_PANS.map((pan) => ok('pan', pan, pan, pan.slice(-4))),
  ok('pan', '4111 1111 1111 1111', VISA, '1111'),
  ok('pan', '4111-1111-1111-1111', VISA, '1111'),
  ok('pan', '4111 1111-1111 1111', VISA, '1111'),
  ok('pan', '3782 822463 10005', '378282246310005', '0005'),
  ok('pan', ` ${VISA} `, VISA, '1111'),
  ok('pan', `-${VISA}-`, VISA, '1111'),
  ok('pan', `  --${VISA}- -`, VISA, '1111'),
  ok('pan', '4111  1111--1111 - 1111', VISA, '1111'),
  ok('pan', panOfLength(12), panOfLength(12), panOfLength(12).slice(-4)),
  ok('pan', panOfLength(19), panOfLength(19), panOfLength(19).slice(-4)),
  // Leading zeros do not change Luhn and are kept, counting toward the length.
  ok('pan', `00${VISA}`, `00${VISA}`, '1111'),
  ok('pan', `0${panOfLength(11)}`, `0${panOfLength(11)}`, panOfLength(11).slice(-4)),
  ok('pan', '0000 0000 0000', '000000000000', '0000'),
  ok('ssn', '123-45-6789', '123-45-6789', '6789'),
  ok('ssn', '123456789', '123-45-6789', '6789'),
  ok('ssn', '001-01-0001', '001-01-0001', '0001'),
  ok('ssn', '665-45-6789', '665-45-6789', '6789'),
  ok('ssn', '667-45-6789', '667-45-6789', '6789'),
  ok('ssn', '899-99-9999', '899-99-9999', '9999'),
  ok('ssn', '899999999', '899-99-9999', '9999'),
  ok('secret', 'a', 'a', null),
  ok('secret', ' ', ' ', null),
  ok('secret', '\u0000', '\u0000', null),
  ok('secret', `  padded\n`, `  padded\n`, null),
  ok('secret', '\uD83D\uDE00', '\uD83D\uDE00', null),
  ok('secret', a(4096), a(4096), null),
  ok('secret', 'é'.repeat(2048), 'é'.repeat(2048), null),
  ok('secret', '😀'.repeat(1024), '😀'.repeat(1024), null),
  ok('secret', `${a(4094)}é`, `${a(4094)}é`, null),
  ok('secret', `${a(4093)}€`, `${a(4093)}€`, null),
];

const NOT_STRINGS: unknown[] = [
  4111111111111111,
  123456789,
  0,
  Number.NaN,
  4111111111111111n,
  null,
  undefined,
  true,
  false,
  [VISA],
  [],
  { value: VISA },
  {},
  new String(VISA),
];

const REFUSED: Refuse[] = [
  ...RECORD_TYPES.flatMap((type) => NOT_STRINGS.map((value) => no(type, value, 'value.type'))),

  no('pan', '٤١١١١١١١١١١١١١١١', 'pan.characters'),
  no('pan', '４１１１１１１１１１１１１１１１', 'pan.characters'),
  no('pan', '४१११११११११११११११', 'pan.characters'),
  no('pan', `411111111111111${'١'}`, 'pan.characters'),
  no('pan', '4111.1111.1111.1111', 'pan.characters'),
  no('pan', '4111/1111/1111/1111', 'pan.characters'),
  no('pan', '4111\t1111\t1111\t1111', 'pan.characters'),
  no('pan', '4111\u00a01111\u00a01111\u00a01111', 'pan.characters'),
  no('pan', '4111\u20021111\u20021111\u20021111', 'pan.characters'),
  no('pan', '4111\u30001111\u30001111\u30001111', 'pan.characters'),
  no('pan', '4111\u20131111\u20131111\u20131111', 'pan.characters'),
  no('pan', '4111\u22121111\u22121111\u22121111', 'pan.characters'),
  no('pan', '4111_1111_1111_1111', 'pan.characters'),
  no('pan', `${VISA}\n`, 'pan.characters'),
  no('pan', `\n${VISA}`, 'pan.characters'),
  no('pan', `+${VISA}`, 'pan.characters'),
  no('pan', `${VISA}x`, 'pan.characters'),
  no('pan', '4.111111111111111e15', 'pan.characters'),
  no('pan', 'not a card', 'pan.characters'),
  no('pan', '', 'pan.length'),
  no('pan', ' - ', 'pan.length'),
  no('pan', '0', 'pan.length'),
  no('pan', panOfLength(11), 'pan.length'),
  no('pan', panOfLength(20), 'pan.length'),
  no('pan', `0${panOfLength(19)}`, 'pan.length'),
  no('pan', '0'.repeat(11), 'pan.length'),
  no('pan', '0'.repeat(20), 'pan.length'),
  ...KNOWN_PANS.flatMap((pan) => [no('pan', shiftLast(pan, 1), 'pan.luhn'), no('pan', shiftLast(pan, -1), 'pan.luhn')]),
  no('pan', shiftLast(panOfLength(12), 1), 'pan.luhn'),
  no('pan', shiftLast(panOfLength(19), 1), 'pan.luhn'),
  no('pan', '4111 1111 1111 1112', 'pan.luhn'),
  no('pan', '4111-1111-1111-1110', 'pan.luhn'),
  no('pan', `0${shiftLast(VISA, 1)}`, 'pan.luhn'),

  no('ssn', '123-456-789', 'ssn.format'),
  no('ssn', '12345678', 'ssn.format'),
  no('ssn', '1234567890', 'ssn.format'),
  no('ssn', '123 45 6789', 'ssn.format'),
  no('ssn', '123-45-678', 'ssn.format'),
  no('ssn', '123-45-67890', 'ssn.format'),
  no('ssn', '123-456789', 'ssn.format'),
  no('ssn', '12345-6789', 'ssn.format'),
  no('ssn', '123--45-6789', 'ssn.format'),
  no('ssn', '123.45.6789', 'ssn.format'),
  no('ssn', '123\u201345\u20136789', 'ssn.format'),
  no('ssn', ' 123-45-6789', 'ssn.format'),
  no('ssn', '123-45-6789 ', 'ssn.format'),
  no('ssn', '123-45-6789\n', 'ssn.format'),
  no('ssn', '123456789\n', 'ssn.format'),
  no('ssn', '١٢٣-٤٥-٦٧٨٩', 'ssn.format'),
  no('ssn', '１２３４５６７８９', 'ssn.format'),
  no('ssn', '+12345678', 'ssn.format'),
  no('ssn', 'abc-de-fghi', 'ssn.format'),
  no('ssn', '', 'ssn.format'),
  no('ssn', '000-45-6789', 'ssn.area'),
  no('ssn', '000456789', 'ssn.area'),
  no('ssn', '666-45-6789', 'ssn.area'),
  no('ssn', '900-45-6789', 'ssn.area'),
  no('ssn', '950-45-6789', 'ssn.area'),
  no('ssn', '999-99-9999', 'ssn.area'),
  no('ssn', '999999999', 'ssn.area'),
  // Several zero fields: the first rule in reading order is reported.
  no('ssn', '000-00-0000', 'ssn.area'),
  no('ssn', '123-00-6789', 'ssn.group'),
  no('ssn', '123006789', 'ssn.group'),
  no('ssn', '123-00-0000', 'ssn.group'),
  no('ssn', '123-45-0000', 'ssn.serial'),
  no('ssn', '123450000', 'ssn.serial'),

  no('secret', '', 'secret.empty'),
  no('secret', a(4097), 'secret.length'),
  no('secret', `${a(4095)}é`, 'secret.length'),
  no('secret', `${a(4094)}€`, 'secret.length'),
  no('secret', `${a(4093)}😀`, 'secret.length'),
  no('secret', `${'é'.repeat(2048)}a`, 'secret.length'),
  no('secret', 'é'.repeat(2049), 'secret.length'),
  no('secret', 'é'.repeat(4096), 'secret.length'),
  no('secret', `${'😀'.repeat(1024)}a`, 'secret.length'),
  no('secret', a(100_000), 'secret.length'),
  no('secret', '\uD800', 'secret.encoding'),
  no('secret', '\uDFFF', 'secret.encoding'),
  no('secret', 'a\uD800b', 'secret.encoding'),
  no('secret', 'tail\uD83D', 'secret.encoding'),
  no('secret', '\uDE00\uD83D', 'secret.encoding'),
  // Not measurable as UTF-8, so the encoding rule wins over the length rule.
  no('secret', `${a(5000)}\uD800`, 'secret.encoding'),
];

describe('checkValue accepts', () => {
  it.each(ACCEPTED)('$type $label', ({ type, value, normalized, hint }) => {
    expect(checkValue(type, value)).toEqual({ ok: true, normalized, hint });
  });

  it.each(ACCEPTED.filter((row) => row.type !== 'secret'))('$type $label gives a hint the bus accepts', (row) => {
    expect(row.hint).toMatch(/^[0-9]{4}$/);
  });
});

describe('checkValue refuses', () => {
  it.each(REFUSED)('$type $label → $rule', ({ type, value, rule }) => {
    const result = checkValue(type, value);
    expect(result).toMatchObject({ ok: false, rule });
    expect(Object.keys(result).sort()).toEqual(['detail', 'ok', 'rule']);
  });

  it('refuses every single-digit change to a valid PAN', () => {
    for (let i = 0; i < VISA.length; i++) {
      for (let d = 0; d <= 9; d++) {
        const changed = VISA.slice(0, i) + String(d) + VISA.slice(i + 1);
        if (changed !== VISA) expect(checkValue('pan', changed)).toMatchObject({ ok: false, rule: 'pan.luhn' });
      }
    }
  });

  it('has a case for every rule', () => {
    expect(new Set(REFUSED.map((row) => row.rule))).toEqual(
      new Set([
        'value.type',
        'pan.characters',
        'pan.length',
        'pan.luhn',
        'ssn.format',
        'ssn.area',
        'ssn.group',
        'ssn.serial',
        'secret.empty',
        'secret.length',
        'secret.encoding',
      ]),
    );
  });
});

describe('refusal details', () => {
  const text = (value: unknown): string =>
    typeof value === 'string' ? value : typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? '');

  it.each(REFUSED)('$type $label: detail does not quote the value', ({ type, value }) => {
    const result = checkValue(type, value);
    if (result.ok) throw new Error('expected a refusal');
    expect(result.detail.length).toBeGreaterThan(0);
    const submitted = text(value);
    const digits = submitted.replace(/\P{Nd}/gu, '');
    if (submitted.length >= 4) expect(result.detail).not.toContain(submitted);
    if (digits.length >= 4) expect(result.detail).not.toContain(digits);
    // Stronger than the whole: no run of four of the value's digits, so not even its last four.
    for (let i = 0; i + 4 <= digits.length; i++) expect(result.detail).not.toContain(digits.slice(i, i + 4));
  });

  it('are fixed per rule, so they cannot carry anything from the value', () => {
    const byRule = new Map<string, Set<string>>();
    for (const { type, value } of REFUSED) {
      const result = checkValue(type, value);
      if (result.ok) continue;
      byRule.set(result.rule, (byRule.get(result.rule) ?? new Set()).add(result.detail));
    }
    for (const details of byRule.values()) expect(details.size).toBe(1);
  });
});

describe('checkValue record types', () => {
  it('lists the record types', () => {
    expect(RECORD_TYPES).toEqual(['pan', 'ssn', 'secret']);
  });

  it('throws on a type outside RecordType, a caller bug rather than bad input', () => {
    expect(() => checkValue('iban' as RecordType, 'x')).toThrow(TypeError);
  });
});
