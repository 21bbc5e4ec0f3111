// What the end-to-end tests submit: PANs, SSNs and secrets that checkValue accepts, each unique,
// with the hint the API must answer and every form of the value a leak search must look for.
import { randomBytes, randomInt } from 'node:crypto';

export type RecordType = 'pan' | 'ssn' | 'secret';

export interface Sample {
  readonly type: RecordType;
  /** Exactly what is sent as `value`. */
  readonly value: string;
  readonly hint: string | null;
  /** Every form of the value that must never appear at rest or in a log. */
  readonly needles: readonly string[];
}

/** The Luhn check digit that makes `body` + digit valid (computed apart from @coffer/protocol). */
export function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    // Once the check digit is appended, the rightmost body digit sits in a doubled position.
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

// Real issuer prefixes: none starts with 1 or 7, so a 12-digit PAN cannot be mistaken for part of
// a millisecond timestamp (17…) in a log line and produce a false hit.
const IINS = ['4', '51', '52', '53', '54', '55', '34', '37', '6011'];

function separated(digits: string, style: number): string {
  if (style === 0) return digits;
  const groups = digits.match(/.{1,4}/g) ?? [digits];
  if (style === 1) return groups.join(' ');
  if (style === 2) return groups.join('-');
  // Mixed and doubled separators, which the API also accepts.
  return groups.map((g, i) => (i === 0 ? g : `${i % 2 ? ' - ' : '-'}${g}`)).join('');
}

function pan(i: number): Sample {
  const length = 12 + (i % 8); // every length from 12 to 19
  let body = IINS[randomInt(IINS.length)] as string;
  while (body.length < length - 1) body += String(randomInt(10));
  const digits = body + luhnDigit(body);
  const value = separated(digits, randomInt(4));
  return { type: 'pan', value, hint: digits.slice(-4), needles: unique([value, digits]) };
}

function ssn(): Sample {
  let area = randomInt(1, 900);
  if (area === 666) area = 667;
  const a = String(area).padStart(3, '0');
  const g = String(randomInt(1, 100)).padStart(2, '0');
  const s = String(randomInt(1, 10_000)).padStart(4, '0');
  const dashed = `${a}-${g}-${s}`;
  const value = randomInt(2) ? dashed : `${a}${g}${s}`;
  return { type: 'ssn', value, hint: s, needles: unique([value, dashed, `${a}${g}${s}`]) };
}

const SECRET_SHAPES: ((tag: string) => string)[] = [
  (tag) => `tok_${tag}`,
  (tag) => `Pässwört-${tag}-日本語🔑`,
  (tag) => `корова ${tag} ✓ ß`,
  (tag) => `api-key:${tag}`,
];

function secret(i: number): Sample {
  // The random tag makes each secret unique; the shapes mix one- to four-byte UTF-8 characters.
  const value = (SECRET_SHAPES[i % SECRET_SHAPES.length] as (tag: string) => string)(randomBytes(12).toString('hex'));
  return { type: 'secret', value, hint: null, needles: [value] };
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** `count` samples cycling PAN, SSN, secret; no two share a normalised value. */
export function mixedSamples(count: number): Sample[] {
  const seen = new Set<string>();
  const out: Sample[] = [];
  while (out.length < count) {
    const i = out.length;
    const sample = i % 3 === 0 ? pan(i) : i % 3 === 1 ? ssn() : secret(i);
    const key = `${sample.type}:${sample.needles.at(-1)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(sample);
  }
  return out;
}
