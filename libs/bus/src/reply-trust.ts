/**
 * Which vault replies a bus's callers believe (issue 9, item 2). A plane that knows the trust
 * root registers it for its bus once (`trustVaultReplies`); from then on `callVault` accepts a
 * reply only if it is signed, for the very request it sent, by a reply key the trust root
 * certified — unless the plane was told to accept unsigned replies (an installation whose vault
 * key is not certified yet; see docs/operations.md). A bus with nothing registered (`coffer init`
 * before there is a trust root) reads replies as before, unauthenticated.
 */
import {
  isCryptoError,
  type PublicKey,
  verifyVaultReply,
  verifyVaultReplyFrame,
  verifyVaultReplyKey,
} from '@coffer/crypto';
import { decodeJson, decodeReplyFrame, isReplyFrame, ProtocolError, SignedAdminReply } from '@coffer/protocol';
import type { Bus } from './bus.ts';

/** The reply was not signed, or not for this request, by a key the trust root certified. */
export class VaultReplyUnauthenticated extends Error {
  override readonly name = 'VaultReplyUnauthenticated';
  readonly code = 'vault-reply-unauthenticated';
}

export interface ReplyTrust {
  /** The org public key pinned from configuration, never as the vault reports it. */
  readonly trustRoot: PublicKey<'ed25519'>;
  /** Accept replies without a signature (an upgrade window); default false: refuse them. */
  readonly acceptUnsigned?: boolean;
}

interface Registered extends ReplyTrust {
  /** `key/certificate` pairs already checked against the trust root. */
  readonly certified: Map<string, PublicKey<'ed25519'>>;
}

const trusted = new WeakMap<Bus, Registered>();

export function trustVaultReplies(bus: Bus, trust: ReplyTrust): void {
  trusted.set(bus, { ...trust, certified: new Map() });
}

const encoder = new TextEncoder();

function certifiedKey(trust: Registered, key: string, certificate: string): PublicKey<'ed25519'> {
  const id = `${key}/${certificate}`;
  let known = trust.certified.get(id);
  if (!known) {
    known = verifyVaultReplyKey(trust.trustRoot, key, certificate);
    if (trust.certified.size > 16) trust.certified.clear(); // a handful of replicas, not a cache to fill
    trust.certified.set(id, known);
  }
  return known;
}

/** A reply once authenticated: its JSON (AdminReply v1) and, from a frame, the bytes beside it. */
export interface AuthenticatedReply {
  readonly json: Uint8Array;
  readonly attachment: Buffer | undefined;
}

/**
 * The reply's JSON bytes (and a frame's attachment), once its signature is checked as this bus's
 * trust requires. Throws VaultReplyUnauthenticated; never returns bytes whose signature failed.
 */
export function authenticatedReply(bus: Bus, op: string, request: Uint8Array, bytes: Uint8Array): AuthenticatedReply {
  if (isReplyFrame(bytes)) return authenticatedFrame(bus, op, request, bytes);
  const trust = trusted.get(bus);
  let envelope: SignedAdminReply | undefined;
  try {
    envelope = decodeJson(SignedAdminReply, bytes);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
  if (!envelope) {
    if (trust && !trust.acceptUnsigned) throw new VaultReplyUnauthenticated(`${op}: the reply is not signed`);
    return { json: bytes, attachment: undefined };
  }
  const reply = encoder.encode(envelope.reply);
  if (!trust) return { json: reply, attachment: undefined };
  try {
    const key = certifiedKey(trust, envelope.key, envelope.certificate);
    verifyVaultReply(key, op, request, reply, envelope.signature);
  } catch (err) {
    if (!isCryptoError(err)) throw err;
    throw new VaultReplyUnauthenticated(`${op}: ${err.code}`);
  }
  return { json: reply, attachment: undefined };
}

/** A binary reply frame (protocol reply-frame.ts): its body checked as it arrived, no copy made. */
function authenticatedFrame(bus: Bus, op: string, request: Uint8Array, bytes: Uint8Array): AuthenticatedReply {
  const trust = trusted.get(bus);
  let frame: ReturnType<typeof decodeReplyFrame>;
  try {
    frame = decodeReplyFrame(bytes);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    // Nothing of a frame that does not parse is read, whatever the trust.
    throw new VaultReplyUnauthenticated(`${op}: ${err.message}`);
  }
  const { signed } = frame;
  if (!signed) {
    if (trust && !trust.acceptUnsigned) throw new VaultReplyUnauthenticated(`${op}: the reply is not signed`);
  } else if (trust) {
    try {
      const key = certifiedKey(
        trust,
        Buffer.from(signed.key).toString('base64url'),
        Buffer.from(signed.certificate).toString('base64url'),
      );
      verifyVaultReplyFrame(key, op, request, frame.body, signed.signature);
    } catch (err) {
      if (!isCryptoError(err)) throw err;
      throw new VaultReplyUnauthenticated(`${op}: ${err.code}`);
    }
  }
  return { json: frame.json, attachment: frame.attachment };
}
