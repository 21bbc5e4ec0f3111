/**
 * `connect({ ingest, trustRoot })` → `{ seal, submit }`. `seal` validates the value by ingest's own
 * rules, fetches the signed data key bundle, verifies it against the trust root, and seals in this
 * process; only the sealed blob and the hint ever leave. `submit` posts a sealed submission to
 * `POST /v1/sealed-records` with one Idempotency-Key through its retries.
 */
import { checkValue, RECORD_TYPES, type RecordType } from '@coffer/protocol/values';
import { v7 } from 'uuid';
import { sealRecord } from './blob.ts';
import { importTrustRoot, type VerifiedBundle, verifyBundle } from './bundle.ts';
import { toBase64, utf8 } from './bytes.ts';
import { SealError } from './errors.ts';
import { postWithRetry, type RetryOptions } from './retry.ts';

export interface ConnectOptions {
  /** Base URL of the ingest plane, e.g. https://ingest.example.com */
  readonly ingest: string;
  /** The org's Ed25519 public key (base64url): the only key a bundle may be signed by. */
  readonly trustRoot: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly retry?: RetryOptions;
}

/** What `seal` returns and `submit` sends. Holds no plaintext. */
export interface SealedSubmission {
  readonly id: string;
  readonly type: RecordType;
  readonly keyId: string;
  /** Sealed blob v1, base64. */
  readonly sealed: string;
  /** Last four digits for pan and ssn (supplied by this client, and marked so), null for secret. */
  readonly hint: string | null;
  /** Sent as the Idempotency-Key header; the same for every retry of this submission. */
  readonly idempotencyKey: string;
}

export interface Accepted {
  readonly id: string;
  readonly type: string;
  readonly hint: string | null;
  readonly keyId: string;
}

export interface Coffer {
  seal(input: { type: RecordType; value: string }): Promise<SealedSubmission>;
  submit(submission: SealedSubmission): Promise<Accepted>;
}

export function connect(options: ConnectOptions): Coffer {
  const base = options.ingest.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  const trustRoot = importTrustRoot(options.trustRoot);
  // Never fails the import, only the first seal: an unhandled rejection would be noise.
  trustRoot.catch(() => {});

  async function currentKey(): Promise<{ bundle: VerifiedBundle; skewMs: number }> {
    let res: Response;
    try {
      res = await fetchFn(`${base}/v1/keys/current`);
    } catch {
      throw new SealError('Unavailable', 'could not fetch the data key from ingest');
    }
    if (!res.ok) throw new SealError('Unavailable', `ingest has no data key to offer (HTTP ${res.status})`);
    let signed: unknown;
    try {
      signed = await res.json();
    } catch {
      throw new SealError('InvalidBundle', 'the data key bundle is not JSON');
    }
    // The key's window is checked on this machine's clock: ingest's clock only steers the record
    // id's timestamp, which ingest checks for freshness against that same clock anyway.
    const bundle = await verifyBundle(await trustRoot, signed, now());
    const serverDate = Date.parse(res.headers.get('date') ?? '');
    return { bundle, skewMs: Number.isNaN(serverDate) ? 0 : serverDate - now() };
  }

  return {
    async seal({ type, value }) {
      if (!RECORD_TYPES.includes(type)) throw new SealError('InvalidValue', 'unknown record type', { rule: 'type' });
      const check = checkValue(type, value);
      if (!check.ok) throw new SealError('InvalidValue', check.detail, { rule: check.rule });
      const { bundle, skewMs } = await currentKey();
      const id = v7({ msecs: now() + skewMs });
      const plaintext = utf8(check.normalized);
      try {
        // In the suite the signed bundle names: an X-Wing bundle gets an X-Wing seal, never X25519.
        const blob = await sealRecord(
          bundle.publicKey,
          plaintext,
          { recordId: id, type, keyId: bundle.id },
          bundle.suite,
        );
        return { id, type, keyId: bundle.id, sealed: toBase64(blob), hint: check.hint, idempotencyKey: v7() };
      } finally {
        plaintext.fill(0);
      }
    },

    async submit(submission) {
      const { id, type, keyId, sealed, hint } = submission;
      const body = JSON.stringify({ id, type, keyId, sealed, hint });
      return (await postWithRetry(
        fetchFn,
        `${base}/v1/sealed-records`,
        body,
        submission.idempotencyKey,
        options.retry,
      )) as Accepted;
    },
  };
}
