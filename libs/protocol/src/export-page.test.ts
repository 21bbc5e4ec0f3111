import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeExportPage, type ExportPageInput, encodeExportPage, recordsWithin } from './export-page.ts';
import { ProtocolError } from './messages.ts';
import { newRecordId } from './record-id.ts';

const KEY_A = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const KEY_B = 'data-key-ü';
const CTX = ['0190a1b2-c3d4-7e5f-8a9b-000000000001', '0190a1b2-c3d4-7e5f-8a9b-000000000002'];

function records(): ExportPageInput[] {
  return Array.from({ length: 9 }, (_, i) => {
    const context = i % 3 === 0 ? null : (CTX[i % 2] as string);
    return {
      id: newRecordId(),
      type: (['pan', 'ssn', 'secret'] as const)[i % 3] as string,
      dataKeyId: i < 5 ? KEY_A : KEY_B,
      sealed: randomBytes(40 + i * 13),
      contextId: context,
      contextEnc: context ? Buffer.alloc(i % 2 ? 1120 : 32, context) : null,
      submittedAt: new Date(1_790_000_000_000 + i).toISOString(),
    };
  });
}

describe('the binary export page, version 1', () => {
  it('round-trips every field; each context enc and data key id is stored once', () => {
    const input = records();
    const page = encodeExportPage(input);
    expect(page[0]).toBe(1);
    const out = decodeExportPage(page);
    expect(out).toHaveLength(input.length);
    out.forEach((r, i) => {
      const want = input[i] as ExportPageInput;
      expect([r.id, r.type, r.dataKeyId, r.submittedAt]).toEqual([
        want.id,
        want.type,
        want.dataKeyId,
        want.submittedAt,
      ]);
      expect(r.sealed.equals(want.sealed)).toBe(true);
      expect(r.contextEnc === null ? null : Buffer.from(r.contextEnc)).toEqual(want.contextEnc);
      expect(r.contextIndex === -1).toBe(want.contextId === null);
    });
    const payload = input.reduce((n, r) => n + r.sealed.length, 0);
    expect(page.length).toBeLessThan(payload + 9 * 80 + 32 + 1120 + 64);
    expect(decodeExportPage(encodeExportPage([]))).toEqual([]);
  });

  it('refuses a page cut short, with trailing bytes, of another version or with an index out of range', () => {
    const page = encodeExportPage(records());
    for (const cut of [0, 1, 5, 40, page.length - 1]) {
      expect(() => decodeExportPage(page.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtocolError);
    }
    expect(() => decodeExportPage(Buffer.concat([page, Buffer.alloc(1)]))).toThrow(ProtocolError);
    const other = Buffer.from(page);
    other[0] = 2;
    expect(() => decodeExportPage(other)).toThrow(/version/);
    // One record, data key index 0 rewritten to 7 (past the key table's single entry).
    const one = encodeExportPage([{ ...(records()[0] as ExportPageInput) }]);
    const keyIndexAt = one.length - 4 - 40 - 24 - 2 - 2;
    one.writeUInt16BE(7, keyIndexAt);
    expect(() => decodeExportPage(one)).toThrow(/index/);
    // A huge record count is refused before anything is allocated for it.
    const lying = encodeExportPage([]);
    lying.writeUInt32BE(0xffffffff, lying.length - 4);
    expect(() => decodeExportPage(lying)).toThrow(ProtocolError);
  });
});

describe('the binary export page, record types', () => {
  it('refuses a record type outside the vocabulary (it would land in a CSV line)', () => {
    const [first] = records();
    const page = encodeExportPage([{ ...(first as ExportPageInput), type: 'pan,\r\n=1' }]);
    expect(() => decodeExportPage(page)).toThrow(/malformed/);
  });
});

describe('the binary export page, byte budget', () => {
  it('recordsWithin keeps the longest prefix whose page fits, counting each key id and context enc once', () => {
    const input = records();
    for (let n = 1; n <= input.length; n++) {
      const exact = encodeExportPage(input.slice(0, n)).length;
      // A budget of exactly that page keeps those records; one byte less keeps fewer (at least one).
      expect(recordsWithin(input, exact)).toBeGreaterThanOrEqual(n);
      expect(recordsWithin(input, exact - 1)).toBe(Math.max(1, n - 1));
    }
    expect(recordsWithin(input, 0)).toBe(1);
    expect(recordsWithin([], 0)).toBe(0);
  });

  it('counts a forged enc under a genuine context id as another context, as the page holds it', () => {
    const genuine = Buffer.alloc(1120, 7);
    const forged = Buffer.alloc(1120, 8);
    const input = Array.from({ length: 6 }, (_, i) => ({
      ...(records()[1] as ExportPageInput),
      id: newRecordId(),
      contextEnc: i % 2 ? Buffer.from(genuine) : i === 4 ? forged : genuine,
    }));
    expect(decodeExportPage(encodeExportPage(input)).filter((r) => r.contextIndex === 1)).toHaveLength(1);
    for (let n = 1; n <= input.length; n++) {
      const exact = encodeExportPage(input.slice(0, n)).length;
      expect(recordsWithin(input, exact)).toBe(n);
      expect(recordsWithin(input, exact - 1)).toBe(Math.max(1, n - 1));
    }
  });
});
