/**
 * Values for decoy records (issue 16, item 3) that pass every check a real one passes: card
 * numbers of common issuer prefixes and lengths with a valid Luhn digit, SSNs in issued ranges,
 * secrets shaped like API tokens. Random from node:crypto, so no two decoys share a pattern.
 */
import { randomInt } from 'node:crypto';
import type { RecordType } from '@coffer/protocol';

const digits = (n: number) => Array.from({ length: n }, () => String(randomInt(10))).join('');

/** The Luhn check digit for `body` (all digits but the last). */
export function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

// Issuer prefix and length: Visa, Mastercard (51-55 and 2221-2720), American Express.
const ISSUERS: readonly (() => [string, number])[] = [
  () => ['4', 16],
  () => [String(51 + randomInt(5)), 16],
  () => [String(2221 + randomInt(500)), 16],
  () => [randomInt(2) ? '34' : '37', 15],
];

function pan(): string {
  const [prefix, length] = (ISSUERS[randomInt(ISSUERS.length)] as () => [string, number])();
  const body = prefix + digits(length - prefix.length - 1);
  return body + luhnDigit(body);
}

function ssn(): string {
  let area = randomInt(1, 900);
  if (area === 666) area = 665;
  const group = randomInt(1, 100);
  const serial = randomInt(1, 10000);
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

const TOKEN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function secret(): string {
  const prefix = ['sk_live_', 'ghp_', 'xoxb-', ''][randomInt(4)] as string;
  return prefix + Array.from({ length: 24 + randomInt(17) }, () => TOKEN[randomInt(TOKEN.length)]).join('');
}

export function decoyValue(type: RecordType): string {
  return type === 'pan' ? pan() : type === 'ssn' ? ssn() : secret();
}

/** The hint ingest would take: the last four digits of a card number or SSN; none for a secret. */
export function hintOf(type: RecordType, value: string): string | null {
  return type === 'secret' ? null : value.replace(/\D/g, '').slice(-4);
}
