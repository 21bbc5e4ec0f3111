/**
 * The data public key ingest seals to. Fetched from the vault over `keys.current`, accepted only
 * when the org signature verifies against the pinned trust root and its window covers now, and
 * refreshed every 10 seconds and just before the window ends. A bundle that fails either check is
 * never used: ingest answers 503 and logs one alert line per bad bundle.
 *
 * Issue 15, item 1: a revocation supersedes the current key before its window ends. Ingest moves
 * to the new key at its next refresh — at most REFRESH_MS (+ one bus request) after the rotation is
 * stored — and from then on accepts nothing sealed to the superseded key, without the grace a
 * key gets at its window's natural end.
 */
import type { Bus } from '@coffer/bus';
import { bundleCovers, type PublicKey, type RecipientKind, verifyDataKeyBundle } from '@coffer/crypto';
import { decodeJson, KeyBundleReply } from '@coffer/protocol';
import type { Logger } from 'pino';

export interface VerifiedKey {
  readonly id: string;
  /** X25519 or X-Wing, as the signed bundle names it: records are sealed in that suite. */
  readonly key: PublicKey<RecipientKind>;
  readonly notAfter: Date;
  /** When its window began: a rotation's key begins later than the key it supersedes. */
  readonly notBefore: Date;
  /** The bundle and signature as the vault sent them, for GET /v1/keys/current. */
  readonly signed: { bundle: unknown; signature: string };
  /** Set when a rotation replaced it before its window ended: no grace then. */
  readonly supersededAt?: Date;
}

/** The bound on how long ingest may seal to a key a rotation superseded (docs/operations.md). */
export const REFRESH_MS = 10_000;
const BEFORE_END_MS = 30_000;

export class DataKeySource {
  #current: VerifiedKey | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #alerted = new Set<string>();
  readonly #bus: Bus;
  readonly #trustRoot: PublicKey<'ed25519'>;
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(bus: Bus, trustRoot: PublicKey<'ed25519'>, log: Logger, now: () => Date) {
    this.#bus = bus;
    this.#trustRoot = trustRoot;
    this.#log = log;
    this.#now = now;
  }

  /** The verified key if its window still covers now. */
  current(): VerifiedKey | undefined {
    const key = this.#current;
    if (key && key.notAfter.getTime() > this.#now().getTime()) return key;
    return undefined;
  }

  #previous: VerifiedKey | undefined;

  /**
   * The verified key named `id` if it is the current one or the one before it and its window ended
   * less than `graceMs` ago: a browser that sealed just before a window change is not refused.
   */
  recent(id: string, graceMs: number): VerifiedKey | undefined {
    const now = this.#now().getTime();
    for (const key of [this.#current, this.#previous]) {
      if (key?.id === id && !key.supersededAt && now < key.notAfter.getTime() + graceMs) return key;
    }
    return undefined;
  }

  #replace(next: VerifiedKey | undefined): void {
    const current = this.#current;
    if (current && current.id !== next?.id) {
      const now = this.#now();
      // Replaced while its window still runs: a rotation (a revocation) superseded it.
      this.#previous = next && current.notAfter > now ? { ...current, supersededAt: now } : current;
    }
    this.#current = next;
  }

  #inFlight: Promise<void> | undefined;
  #lastAttempt = 0;

  /**
   * The current key, or — when there is none, say just past a window's end — one refresh now
   * (shared by concurrent callers, at most once a second) and whatever it found.
   */
  async currentOrRefresh(): Promise<VerifiedKey | undefined> {
    const key = this.current();
    if (key) return key;
    if (!this.#inFlight && Date.now() - this.#lastAttempt >= 1000) {
      this.#lastAttempt = Date.now();
      this.#inFlight = this.refresh().finally(() => {
        this.#inFlight = undefined;
      });
    }
    await this.#inFlight;
    return this.current();
  }

  async refresh(): Promise<void> {
    let reply: KeyBundleReply;
    try {
      reply = decodeJson(KeyBundleReply, await this.#bus.request(this.#bus.names.keysCurrent, new Uint8Array(), 3000));
    } catch (err) {
      this.#log.warn({ reason: (err as Error).message }, 'could not fetch the current data key');
      return;
    }
    if ('error' in reply) {
      this.#alert('none', `the vault has no data key: ${reply.error}`);
      this.#replace(undefined);
      return;
    }
    try {
      const verified = verifyDataKeyBundle(this.#trustRoot, reply.bundle, reply.signature, ['x25519', 'xwing']);
      if (!bundleCovers(verified, this.#now())) throw new Error('its validity window does not cover now');
      // Never back to a key a rotation superseded: which key is current is the database's word (a
      // writer can un-retire the old one, which a revoked person may have saved), but a key that
      // began later and still covers now was made by a rotation after it, so it stays.
      const held = this.current();
      if (held && held.id !== verified.id && held.notBefore > new Date(verified.notBefore)) {
        this.#alert(verified.id, `the vault offers data key ${verified.id}, superseded by ${held.id}: kept ${held.id}`);
        return;
      }
      this.#replace({
        id: verified.id,
        key: verified.key,
        notAfter: new Date(verified.notAfter),
        notBefore: new Date(verified.notBefore),
        signed: { bundle: reply.bundle, signature: reply.signature },
      });
    } catch (err) {
      this.#replace(undefined);
      this.#alert(reply.bundle.id, `data key bundle rejected: ${(err as Error).message}`);
    }
  }

  #alert(keyId: string, message: string): void {
    const key = `${keyId}:${message}`;
    if (this.#alerted.has(key)) return;
    this.#alerted.add(key);
    this.#log.error({ alert: 'data-key', keyId }, message);
  }

  /** Refresh now, then every REFRESH_MS and shortly before the current window ends. */
  async start(): Promise<void> {
    await this.refresh();
    this.#schedule();
  }

  #schedule(): void {
    const end = this.#current ? this.#current.notAfter.getTime() - BEFORE_END_MS - this.#now().getTime() : REFRESH_MS;
    const wait = Math.max(1000, Math.min(REFRESH_MS, end));
    this.#timer = setTimeout(() => {
      void this.refresh().finally(() => this.#schedule());
    }, wait);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
