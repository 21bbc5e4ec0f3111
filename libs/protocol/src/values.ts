/**
 * Checks on a submitted value before the ingest service seals it. Pure: no I/O, no logging.
 * A refusal's `detail` goes back to the caller in an RFC 9457 problem response and may be logged,
 * so it describes the rule only and never quotes the value: a refused card number is still mostly
 * a card number.
 */

export const RECORD_TYPES = ['pan', 'ssn', 'secret'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export type ValueCheck =
  | { ok: true; normalized: string; hint: string | null }
  | { ok: false; rule: string; detail: string };

const SECRET_MAX_BYTES = 4096;

// Fixed strings, never templates, so nothing from the value can reach a response. Digits are spelt
// out as words where a rule is about a digit pattern, so a detail never even looks like part of one.
const DETAILS = {
  'value.type': 'the value must be a JSON string',
  'pan.characters': 'a card number may contain only the digits 0-9, spaces and hyphens',
  'pan.length': 'a card number has 12 to 19 digits',
  'pan.luhn': 'the card number fails its check digit',
  'ssn.format': 'a social security number is written AAA-GG-SSSS or as nine digits',
  'ssn.area': 'the first three digits of a social security number cannot be all zeros, 666 or in the 900s',
  'ssn.group': 'the middle two digits of a social security number cannot be all zeros',
  'ssn.serial': 'the last four digits of a social security number cannot be all zeros',
  'secret.empty': 'a secret cannot be empty',
  'secret.length': `a secret is at most ${SECRET_MAX_BYTES} bytes of UTF-8`,
  'secret.encoding': 'a secret must be well-formed Unicode text (no unpaired surrogates)',
} as const;
type Rule = keyof typeof DETAILS;

const refuse = (rule: Rule): ValueCheck => ({ ok: false, rule, detail: DETAILS[rule] });

// [0-9], not \d or Number(): the point is to refuse other scripts' digits, not to transliterate them.
const ASCII_DIGITS = /^[0-9]*$/;
// Two anchored fixed-length alternatives: nothing can backtrack, and a mixed shape such as
// "123-456789" matches neither.
const SSN_SHAPE = /^(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{9})$/;

export function checkValue(type: RecordType, value: unknown): ValueCheck {
  // A PAN sent as a JSON number may already have lost digits past 2^53, and coercing an object or
  // array would validate something the caller did not send.
  if (typeof value !== 'string') return refuse('value.type');
  switch (type) {
    case 'pan':
      return checkPan(value);
    case 'ssn':
      return checkSsn(value);
    case 'secret':
      return checkSecret(value);
    default:
      // Unreachable for typed callers; an untyped one passing another type has a bug, not bad input.
      throw new TypeError('unknown record type');
  }
}

function checkPan(value: string): ValueCheck {
  // Only the separators people type between digit groups; anything else (dots, tabs, NBSP) is
  // more likely a paste accident than formatting, so it is refused rather than guessed at.
  const digits = value.replaceAll(' ', '').replaceAll('-', '');
  if (!ASCII_DIGITS.test(digits)) return refuse('pan.characters');
  if (digits.length < 12 || digits.length > 19) return refuse('pan.length');
  if (!luhnValid(digits)) return refuse('pan.luhn');
  return { ok: true, normalized: digits, hint: digits.slice(-4) };
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  // Positions count from the right, so leading zeros never change the result.
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

function checkSsn(value: string): ValueCheck {
  if (!SSN_SHAPE.test(value)) return refuse('ssn.format');
  const digits = value.replaceAll('-', '');
  const area = digits.slice(0, 3);
  const group = digits.slice(3, 5);
  const serial = digits.slice(5);
  // The SSA never issues these; 9xx is the ITIN range, which is not an SSN.
  if (area === '000' || area === '666' || Number(area) >= 900) return refuse('ssn.area');
  if (group === '00') return refuse('ssn.group');
  if (serial === '0000') return refuse('ssn.serial');
  return { ok: true, normalized: `${area}-${group}-${serial}`, hint: serial };
}

// The repo's lib is ES2023; String.prototype.isWellFormed is ES2024 but ships in Node 20.
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function checkSecret(value: string): ValueCheck {
  if (value.length === 0) return refuse('secret.empty');
  // An unpaired surrogate would be sealed as U+FFFD: the caller would get back something else.
  if (!isWellFormed(value)) return refuse('secret.encoding');
  // Each UTF-16 unit is at least one UTF-8 byte, so a long string is refused without encoding it.
  if (value.length > SECRET_MAX_BYTES) return refuse('secret.length');
  if (new TextEncoder().encode(value).byteLength > SECRET_MAX_BYTES) return refuse('secret.length');
  return { ok: true, normalized: value, hint: null };
}
