/**
 * Minting data keys: one X25519 key per cryptoperiod, its bundle signed by the org key, wrapped to
 * every recipient. The private halves never leave this function except wrapped.
 */
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { type Recipient, wrapDataKey } from './holder.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** `count` windows of `days` each, back to back from `start`. */
export function dataKeyWindows(start: Date, days: number, count: number): KeyWindow[] {
  const from = start.getTime();
  return Array.from({ length: count }, (_, i) => ({
    notBefore: new Date(from + i * days * DAY_MS),
    notAfter: new Date(from + (i + 1) * days * DAY_MS),
  }));
}

/** Where the next window starts: now (to the second), or the end of the last window if later. */
export function nextWindowStart(now: Date, lastNotAfter: string | null): Date {
  const second = now.getTime() - (now.getTime() % 1000);
  return new Date(Math.max(second, lastNotAfter ? Date.parse(lastNotAfter) : 0));
}

export interface MintedDataKey {
  readonly bundle: { id: string; publicKey: string; notBefore: string; notAfter: string };
  readonly signature: string;
  readonly copies: { recipientKind: 'user' | 'recovery'; recipientId: string; wrapped: string }[];
}

export function mintDataKeys(
  orgKey: PrivateKey<'ed25519'>,
  recipients: readonly Recipient[],
  windows: readonly KeyWindow[],
): MintedDataKey[] {
  return windows.map((window) => {
    const dataKey = PrivateKey.generate('x25519');
    const bundle = {
      id: newRecordId(),
      publicKey: dataKey.publicKey.toBase64url(),
      notBefore: window.notBefore.toISOString(),
      notAfter: window.notAfter.toISOString(),
    };
    return {
      bundle,
      signature: signDataKeyBundle(orgKey, bundle),
      copies: recipients.map((r) => ({
        recipientKind: r.kind,
        recipientId: r.id,
        wrapped: wrapDataKey(dataKey, bundle.id, r),
      })),
    };
  });
}

/** Enough windows of `days` from `start` to cover `horizonDays`. */
export function windowsCovering(start: Date, days: number, horizonDays: number): KeyWindow[] {
  return dataKeyWindows(start, days, Math.ceil(horizonDays / days));
}
