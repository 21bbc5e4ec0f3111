/** Test card numbers for the ingest benchmark. */
import { randomInt } from 'node:crypto';

/** A random 16-digit PAN in the Visa range with a correct Luhn check digit. */
export function randomPan(): string {
  let digits = '4';
  for (let i = 0; i < 14; i++) digits += String(randomInt(10));
  let sum = 0;
  // Once the check digit is appended, the payload's rightmost digit is the first one doubled.
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}
