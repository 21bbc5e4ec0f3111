import { describe, expect, it } from 'vitest';
import { encodeJson } from './messages.ts';
import {
  ATTACHMENT,
  attachmentOf,
  decodeReplyFrame,
  encodeReplyFrame,
  isReplyFrame,
  replyFrameBody,
  withAttachment,
} from './reply-frame.ts';

const json = encodeJson({ v: 1, ok: true, result: { done: true, wrappedDataKeys: {} } });
const page = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const signed = { key: Buffer.alloc(32, 1), certificate: Buffer.alloc(64, 2), signature: Buffer.alloc(64, 3) };

describe('reply frame v3', () => {
  it('lays out marker, version, flags, the signature parts, then u32 length, JSON and attachment', () => {
    const body = replyFrameBody(json, page);
    const length = Buffer.from([0, 0, 0, json.length]);
    expect(body).toEqual(Buffer.concat([length, json, page]));
    expect(encodeReplyFrame(body)).toEqual(Buffer.concat([Buffer.from([0, 3, 0]), body]));
    expect(encodeReplyFrame(body, signed)).toEqual(
      Buffer.concat([Buffer.from([0, 3, 1]), signed.key, signed.certificate, signed.signature, body]),
    );
  });

  it('decodes to views of the bytes it was given, signed or not', () => {
    const body = replyFrameBody(json, page);
    for (const sig of [undefined, signed]) {
      const frame = decodeReplyFrame(encodeReplyFrame(body, sig));
      expect(frame.body).toEqual(body);
      expect(frame.json).toEqual(Buffer.from(json));
      expect(frame.attachment).toEqual(page);
      expect(frame.signed && { ...frame.signed }).toEqual(sig && { ...sig });
    }
    const empty = decodeReplyFrame(encodeReplyFrame(replyFrameBody(json, new Uint8Array())));
    expect(empty.attachment).toHaveLength(0);
  });

  it('is told apart from JSON replies and the JSON envelope v2 by its first byte', () => {
    expect(isReplyFrame(encodeReplyFrame(replyFrameBody(json, page)))).toBe(true);
    expect(isReplyFrame(json)).toBe(false);
    expect(isReplyFrame(encodeJson({ v: 2, reply: '{}', key: '', certificate: '', signature: '' }))).toBe(false);
    expect(isReplyFrame(new Uint8Array())).toBe(false);
  });

  it('refuses a frame of another version or flags, or one cut short anywhere', () => {
    const whole = encodeReplyFrame(replyFrameBody(json, page), signed);
    const bad = [
      Buffer.from([0x7b]),
      Buffer.from([0, 2, 0, 0, 0, 0, 0]),
      Buffer.from([0, 3, 2, 0, 0, 0, 0]),
      Buffer.from([0, 3, 0, 0, 0, 0]),
      Buffer.from([0, 3, 0, 0, 0, 0, 1]),
      whole.subarray(0, 3 + 160 + 3),
      whole.subarray(0, 3 + 160 + 4 + json.length - 1),
    ];
    for (const b of bad) expect(() => decodeReplyFrame(b)).toThrow(/frame/);
  });

  it('an attachment rides on a result without reaching its JSON', () => {
    const result = withAttachment({ done: true }, page);
    expect(attachmentOf(result)).toBe(page);
    expect(result[ATTACHMENT as never]).toBe(page);
    expect(JSON.stringify(result)).toBe('{"done":true}');
    expect(attachmentOf({ done: true })).toBeUndefined();
    expect(attachmentOf(undefined)).toBeUndefined();
  });
});
