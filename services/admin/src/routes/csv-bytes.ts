/**
 * CSV lines written as bytes, one buffer per export page (issue 14 item 4): a record's plaintext
 * is copied into the page's buffer instead of becoming a JavaScript string (which could never be
 * wiped) and then a line, a joined page and UTF-8 again on the socket. The cell rules are
 * `csvCell`'s, applied to UTF-8 bytes: every character they look at is ASCII, and no byte of a
 * multi-byte UTF-8 sequence is ASCII. A value that is not valid UTF-8 goes through `csvCell` as
 * before (its string form replaces the invalid bytes), so the output never changes.
 */
import { isUtf8 } from 'node:buffer';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
/** What a spreadsheet would run as a formula when a cell starts with it: = + - @ tab CR. */
const FORMULA_START = new Set([0x3d, 0x2b, 0x2d, 0x40, 0x09, CR]);

export class CsvBytes {
  #buf: Buffer;
  #at = 0;
  readonly #cell: (value: string) => string;

  /** `cell` is the string rule (csvCell), used for a value that is not valid UTF-8. */
  constructor(sizeHint: number, cell: (value: string) => string) {
    this.#buf = Buffer.allocUnsafe(Math.max(256, sizeHint));
    this.#cell = cell;
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(grown, 0, 0, this.#at);
    this.#buf.fill(0, 0, this.#at); // it held plaintext
    this.#buf = grown;
  }

  /** ASCII text as is (ids, types, instants, separators: checked before they get here). */
  text(s: string): void {
    this.#room(s.length);
    this.#at += this.#buf.write(s, this.#at, s.length, 'latin1');
  }

  /** One value as a spreadsheet-safe RFC 4180 cell. */
  cell(value: Buffer): void {
    if (!isUtf8(value)) {
      const s = this.#cell(value.toString('utf8'));
      this.#room(Buffer.byteLength(s));
      this.#at += this.#buf.write(s, this.#at, 'utf8');
      return;
    }
    let quoted = false;
    let quotes = 0;
    for (const b of value) {
      if (b === QUOTE) quotes++;
      if (b === QUOTE || b === COMMA || b === CR || b === LF) quoted = true;
    }
    const formula = value.length > 0 && FORMULA_START.has(value[0] as number);
    this.#room(value.length + quotes + 3);
    const buf = this.#buf;
    if (quoted) buf[this.#at++] = QUOTE;
    if (formula) buf[this.#at++] = 0x27; // '
    if (quotes === 0) this.#at += value.copy(buf, this.#at);
    else
      for (const b of value) {
        buf[this.#at++] = b;
        if (b === QUOTE) buf[this.#at++] = QUOTE;
      }
    if (quoted) buf[this.#at++] = QUOTE;
  }

  /** The bytes written so far; the writer is done with them. */
  take(): Buffer {
    return this.#buf.subarray(0, this.#at);
  }
}
