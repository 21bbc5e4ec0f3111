/**
 * The binary reply frame (issue 14): how the vault answers an operation whose result carries bytes
 * (`export.block`'s page). A JSON reply would carry them as base64 in a JSON string, and a signed
 * one as that JSON again inside the JSON envelope v2: the page was encoded, escaped, parsed and
 * re-encoded several times on each side. In a frame the bytes travel once, as they are, and the
 * signature covers the frame's body exactly as sent.
 *
 *   u8   0x00           (JSON replies and envelope v2 start with '{': the first byte tells them apart)
 *   u8   0x03           frame version
 *   u8   flags          0x01 signed, 0x00 unsigned (a vault whose reply key is not certified yet)
 *   when signed: 32 bytes reply key (raw Ed25519), 64 bytes its certificate by the org key,
 *                64 bytes signature ("coffer/vault-reply-frame/v1" over op, request, body)
 *   body (signed as is, to the frame's end):
 *     u32  n, then n bytes: the reply as JSON (AdminReply v1, the attachment left out)
 *     the attachment: the rest of the frame
 *
 * All integers big-endian. Version 3 stays readable once a later one exists.
 */
import { ProtocolError } from './messages.ts';

export const REPLY_FRAME_VERSION = 0x03;
const MARK = 0x00;
const SIGNED = 0x01;
const KEY = 32;
const CERTIFICATE = 64;
const SIGNATURE = 64;
const HEAD = 3;

/** The bytes a handler's result carries beside its JSON (the router frames them). */
export const ATTACHMENT: unique symbol = Symbol('coffer.reply-attachment');

/** `result` with `bytes` to travel as its frame's attachment (JSON.stringify leaves symbols out). */
export function withAttachment<T extends object>(result: T, bytes: Uint8Array): T {
  return Object.assign(result, { [ATTACHMENT]: bytes });
}

export function attachmentOf(result: unknown): Uint8Array | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  return (result as { [ATTACHMENT]?: Uint8Array })[ATTACHMENT];
}

export interface FrameSignature {
  readonly key: Uint8Array;
  readonly certificate: Uint8Array;
  readonly signature: Uint8Array;
}

export interface ReplyFrame {
  readonly signed: FrameSignature | undefined;
  /** What the signature covers: everything after the signature. */
  readonly body: Buffer;
  readonly json: Buffer;
  readonly attachment: Buffer;
}

/** Whether these reply bytes are a frame (else JSON: a reply or a signed envelope v2). */
export const isReplyFrame = (bytes: Uint8Array): boolean => bytes.length > 0 && bytes[0] === MARK;

/** The body of a frame: the reply's JSON and its attachment. */
export function replyFrameBody(json: Uint8Array, attachment: Uint8Array): Buffer {
  const body = Buffer.allocUnsafe(4 + json.length + attachment.length);
  body.writeUInt32BE(json.length, 0);
  body.set(json, 4);
  body.set(attachment, 4 + json.length);
  return body;
}

/** A whole frame around `body`, signed or not. */
export function encodeReplyFrame(body: Uint8Array, signed?: FrameSignature): Buffer {
  const head = HEAD + (signed ? KEY + CERTIFICATE + SIGNATURE : 0);
  const out = Buffer.allocUnsafe(head + body.length);
  out[0] = MARK;
  out[1] = REPLY_FRAME_VERSION;
  out[2] = signed ? SIGNED : 0;
  if (signed) {
    if (signed.key.length !== KEY || signed.certificate.length !== CERTIFICATE || signed.signature.length !== SIGNATURE)
      throw new Error('reply frame: key, certificate or signature of the wrong length');
    out.set(signed.key, HEAD);
    out.set(signed.certificate, HEAD + KEY);
    out.set(signed.signature, HEAD + KEY + CERTIFICATE);
  }
  out.set(body, head);
  return out;
}

/** Split a frame; ProtocolError for a malformed one. Every part is a view into `bytes`, not a copy. */
export function decodeReplyFrame(bytes: Uint8Array): ReplyFrame {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length < HEAD || buf[0] !== MARK) throw new ProtocolError('not a reply frame');
  if (buf[1] !== REPLY_FRAME_VERSION) throw new ProtocolError('unknown reply frame version');
  const flags = buf[2];
  if (flags !== 0 && flags !== SIGNED) throw new ProtocolError('unknown reply frame flags');
  let at = HEAD;
  let signed: FrameSignature | undefined;
  if (flags === SIGNED) {
    if (buf.length < HEAD + KEY + CERTIFICATE + SIGNATURE + 4) throw new ProtocolError('reply frame is cut short');
    signed = {
      key: buf.subarray(HEAD, HEAD + KEY),
      certificate: buf.subarray(HEAD + KEY, HEAD + KEY + CERTIFICATE),
      signature: buf.subarray(HEAD + KEY + CERTIFICATE, HEAD + KEY + CERTIFICATE + SIGNATURE),
    };
    at = HEAD + KEY + CERTIFICATE + SIGNATURE;
  }
  const body = buf.subarray(at);
  if (body.length < 4) throw new ProtocolError('reply frame is cut short');
  const n = body.readUInt32BE(0);
  if (n > body.length - 4) throw new ProtocolError('reply frame is cut short');
  return { signed, body, json: body.subarray(4, 4 + n), attachment: body.subarray(4 + n) };
}
