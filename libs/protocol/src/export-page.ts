/**
 * The binary export page (issue 14 item 4): what `export.chunk` carries instead of `export.page`'s
 * JSON object per record with base64 fields. One buffer per page, base64-encoded once as the
 * reply's `page`; each record's sealed blob is a slice of it, never copied or re-encoded. The
 * contexts' encapsulated keys and the data key ids are stored once per page and referenced by
 * index. Version byte first: a later layout is a new version, and version 1 stays readable.
 *
 *   u8   version (0x01)
 *   u16  K, then K × (u8 length, data key id as UTF-8)
 *   u16  C, then C × (u16 length, context enc)
 *   u32  N, then N records:
 *          36 bytes record id (lowercase UUID, ASCII)
 *          u8 length, type (ASCII)
 *          u16 data key index (< K)
 *          u16 context index (< C, or 0xFFFF for a version-1 blob, which has no context)
 *          24 bytes submitted at (ISO 8601 UTC with milliseconds, ASCII)
 *          u32 length, sealed blob
 *
 * All integers big-endian. Nothing in it is secret (sealed blobs and public encapsulations); the
 * decoder still checks every length and index, so a malformed page is a ProtocolError, not a
 * crash or a read past the end.
 */
import { ProtocolError } from './messages.ts';
import { RECORD_TYPES } from './values.ts';

export const EXPORT_PAGE_VERSION = 0x01;
const NO_CONTEXT = 0xffff;
const ID_LENGTH = 36;
const INSTANT_LENGTH = 24;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TYPES: ReadonlySet<string> = new Set(RECORD_TYPES);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface ExportPageRecord {
  readonly id: string;
  readonly type: string;
  readonly dataKeyId: string;
  readonly sealed: Buffer;
  /** The record context's encapsulated key, or null for a version-1 blob. */
  readonly contextEnc: Buffer | null;
  /** Index of the context within this page (-1 for none): equal index, same context. */
  readonly contextIndex: number;
  readonly submittedAt: string;
}

export interface ExportPageInput {
  readonly id: string;
  readonly type: string;
  readonly dataKeyId: string;
  readonly sealed: Buffer;
  /** The record's context id (null for version 1) and its encapsulated key. */
  readonly contextId: string | null;
  readonly contextEnc: Buffer | null;
  readonly submittedAt: string;
}

/** Bytes of a record's fixed fields: id, type length, key and context index, instant, sealed length. */
const RECORD_FIXED = ID_LENGTH + 1 + 2 + 2 + INSTANT_LENGTH + 4;

/**
 * How many of `records`, from the first, fit in a page of at most `budget` bytes (at least one):
 * every byte counts, each record's and each data key id's and context enc's the first time a
 * record names it (an X-Wing enc is 1,120 bytes, and at a low ingest rate each record may have a
 * context of its own). Contexts are told apart as the encoder tells them apart.
 */
export function recordsWithin(records: readonly ExportPageInput[], budget: number): number {
  let bytes = 1 + 2 + 2 + 4;
  const keys = new Set<string>();
  const contexts = new Map<string, Buffer>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as ExportPageInput;
    let add = RECORD_FIXED + r.type.length + r.sealed.length;
    const newKey = !keys.has(r.dataKeyId);
    if (newKey) add += 1 + Buffer.byteLength(r.dataKeyId);
    const context = r.contextId !== null && r.contextEnc ? contextKey(contexts, r.contextId, r.contextEnc) : undefined;
    const newContext = context !== undefined && !contexts.has(context);
    if (newContext) add += 2 + (r.contextEnc as Buffer).length;
    if (i > 0 && bytes + add > budget) return i;
    bytes += add;
    if (newKey) keys.add(r.dataKeyId);
    if (newContext) contexts.set(context, r.contextEnc as Buffer);
  }
  return records.length;
}

/**
 * A context is its id and its enc: a forged enc stored under a genuine id (kept apart since
 * migration 012) is another context of the page, never the genuine one's. Records of one context
 * usually share one enc Buffer, so the compare is a pointer check.
 */
function contextKey(seen: ReadonlyMap<string, Buffer>, contextId: string, enc: Buffer): string {
  const first = seen.get(contextId);
  return !first || first === enc || first.equals(enc) ? contextId : `${contextId}:${enc.toString('base64')}`;
}

/** Encode one page. Throws on input the format cannot carry (the vault's own data, so a bug). */
export function encodeExportPage(records: readonly ExportPageInput[]): Buffer {
  const keys = new Map<string, number>();
  const contexts = new Map<string, { index: number; enc: Buffer }>();
  const encs = new Map<string, Buffer>();
  // Each record's key and context index, found once here and written below.
  const keyIndex = new Uint16Array(records.length);
  const contextIndex = new Uint16Array(records.length);
  let size = 1 + 2 + 2 + 4;
  records.forEach((r, i) => {
    let key = keys.get(r.dataKeyId);
    if (key === undefined) {
      key = keys.size;
      keys.set(r.dataKeyId, key);
    }
    keyIndex[i] = Math.min(key, NO_CONTEXT);
    contextIndex[i] = NO_CONTEXT;
    if (r.contextId !== null) {
      if (!r.contextEnc) throw new Error('a record context without its enc');
      const id = contextKey(encs, r.contextId, r.contextEnc);
      let context = contexts.get(id);
      if (!context) {
        context = { index: contexts.size, enc: r.contextEnc };
        contexts.set(id, context);
        encs.set(id, r.contextEnc);
      }
      contextIndex[i] = Math.min(context.index, NO_CONTEXT);
    }
    size += RECORD_FIXED + r.type.length + r.sealed.length;
  });
  if (keys.size >= 0xffff || contexts.size >= NO_CONTEXT) throw new Error('too many keys or contexts for one page');
  const keyBytes = [...keys.keys()].map((k) => Buffer.from(k, 'utf8'));
  for (const k of keyBytes) size += 1 + k.length;
  for (const c of contexts.values()) size += 2 + c.enc.length;
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt8(EXPORT_PAGE_VERSION, 0);
  o = out.writeUInt16BE(keyBytes.length, o);
  for (const k of keyBytes) {
    if (k.length > 255) throw new Error('data key id too long');
    o = out.writeUInt8(k.length, o);
    o += k.copy(out, o);
  }
  o = out.writeUInt16BE(contexts.size, o);
  for (const c of contexts.values()) {
    o = out.writeUInt16BE(c.enc.length, o);
    o += c.enc.copy(out, o);
  }
  o = out.writeUInt32BE(records.length, o);
  records.forEach((r, i) => {
    if (!UUID.test(r.id) || !INSTANT.test(r.submittedAt) || r.type.length > 255) throw new Error('unencodable record');
    o += out.write(r.id, o, ID_LENGTH, 'latin1');
    o = out.writeUInt8(r.type.length, o);
    o += out.write(r.type, o, r.type.length, 'latin1');
    o = out.writeUInt16BE(keyIndex[i] as number, o);
    o = out.writeUInt16BE(contextIndex[i] as number, o);
    o += out.write(r.submittedAt, o, INSTANT_LENGTH, 'latin1');
    o = out.writeUInt32BE(r.sealed.length, o);
    o += r.sealed.copy(out, o);
  });
  return out;
}

/** Decode one page; every length and index is checked. Sealed blobs are views into `page`. */
export function decodeExportPage(page: Buffer): ExportPageRecord[] {
  let o = 0;
  /** The next `n` bytes' offset, moving past them; ProtocolError if the page ends first. */
  const take = (n: number): number => {
    if (o + n > page.length) throw new ProtocolError('export page is cut short');
    o += n;
    return o - n;
  };
  const u8 = () => page.readUInt8(take(1));
  const u16 = () => page.readUInt16BE(take(2));
  const u32 = () => page.readUInt32BE(take(4));
  const bytes = (n: number) => {
    const at = take(n);
    return page.subarray(at, at + n);
  };
  if (u8() !== EXPORT_PAGE_VERSION) throw new ProtocolError('unknown export page version');
  const keys = Array.from({ length: u16() }, () => bytes(u8()).toString('utf8'));
  const contexts = Array.from({ length: u16() }, () => bytes(u16()));
  const count = u32();
  // Each record takes at least 68 bytes: a count the page cannot hold is refused before allocating.
  if (count > (page.length - o) / 68) throw new ProtocolError('export page is cut short');
  const records: ExportPageRecord[] = new Array(count);
  // The text fields are read straight off the page (no Buffer view per field).
  const text = (n: number) => {
    const at = take(n);
    return page.toString('latin1', at, at + n);
  };
  for (let i = 0; i < count; i++) {
    const id = text(ID_LENGTH);
    const type = text(u8());
    const dataKeyId = keys[u16()];
    const contextIndex = u16();
    const submittedAt = text(INSTANT_LENGTH);
    const sealed = bytes(u32());
    const contextEnc = contextIndex === NO_CONTEXT ? null : contexts[contextIndex];
    if (dataKeyId === undefined || contextEnc === undefined) throw new ProtocolError('export page index out of range');
    if (!UUID.test(id) || !INSTANT.test(submittedAt) || !TYPES.has(type)) {
      throw new ProtocolError('export page record is malformed');
    }
    records[i] = {
      id,
      type,
      dataKeyId,
      sealed,
      contextEnc,
      contextIndex: contextIndex === NO_CONTEXT ? -1 : contextIndex,
      submittedAt,
    };
  }
  if (o !== page.length) throw new ProtocolError('export page has trailing bytes');
  return records;
}
