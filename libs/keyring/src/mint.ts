/**
 * Minting data keys: one key per cryptoperiod in the org's suite (X-Wing or X25519), its bundle
 * signed by the org key naming that suite, wrapped to every recipient. The private halves never
 * leave this function except wrapped.
 */
import { type BundleSuite, type DataKeyBundle, PrivateKey, signDataKeyBundle } from '@coffer/crypto';
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
  readonly bundle: { id: string; suite?: BundleSuite; publicKey: string; notBefore: string; notAfter: string };
  readonly signature: string;
  readonly copies: { recipientKind: 'user' | 'recovery'; recipientId: string; wrapped: string }[];
}

export function mintDataKeys(
  orgKey: PrivateKey<'ed25519'>,
  recipients: readonly Recipient[],
  windows: readonly KeyWindow[],
  suite: BundleSuite,
): MintedDataKey[] {
  return windows.map((window) => {
    const dataKey = PrivateKey.generate(suite);
    // X25519 keys keep the v1 bundle (no suite field) that every build reads; X-Wing ones name it.
    const bundle: DataKeyBundle = {
      id: newRecordId(),
      ...(suite === 'x25519' ? {} : { suite }),
      publicKey: dataKey.publicKey.toBase64url(),
      notBefore: window.notBefore.toISOString(),
      notAfter: window.notAfter.toISOString(),
    };
    const minted: MintedDataKey = {
      bundle,
      signature: signDataKeyBundle(orgKey, bundle),
      copies: recipients.map((r) => ({
        recipientKind: r.kind,
        recipientId: r.id,
        wrapped: wrapDataKey(dataKey, bundle.id, r),
      })),
    };
    dataKey.destroy();
    return minted;
  });
}

/** Enough windows of `days` from `start` to cover `horizonDays`. */
export function windowsCovering(start: Date, days: number, horizonDays: number): KeyWindow[] {
  return dataKeyWindows(start, days, Math.ceil(horizonDays / days));
}
