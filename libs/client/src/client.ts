/**
 * @coffer/client — submit values to Coffer from a customer's backend (Node). `seal` does in this
 * process what the browser SDK does (validate by ingest's rules, verify the signed data key bundle
 * against the trust root, seal with libs/crypto), so ingest never sees the value; `submitSealed`
 * posts it to POST /v1/sealed-records. `submit` is the plain path (POST /v1/records, ingest seals).
 * Both posts keep one Idempotency-Key through their retries of 429, 503 and network failures.
 */
import { randomUUID } from 'node:crypto';
import {
  bundleCovers,
  isCryptoError,
  PublicKey,
  recordBinding,
  seal as sealBlob,
  verifyDataKeyBundle,
} from '@coffer/crypto';
import { checkValue, newRecordId, RECORD_TYPES, type RecordType } from '@coffer/protocol';
import type { Accepted, SealedSubmission } from '@coffer/seal';
import { SealError } from '@coffer/seal';
import { postWithRetry, type RetryOptions } from '@coffer/seal/retry';

export interface ClientOptions {
  /** Base URL of the ingest plane. */
  readonly ingest: string;
  /** The org's Ed25519 public key (base64url); required to seal, not for plain submit. */
  readonly trustRoot?: string;
  readonly fetch?: typeof fetch;
  readonly retry?: RetryOptions;
  readonly now?: () => Date;
}

export interface CofferClient {
  seal(input: { type: RecordType; value: string }): Promise<SealedSubmission>;
  submitSealed(submission: SealedSubmission): Promise<Accepted>;
  /** Seal here and submit: ingest never sees the value. */
  sealAndSubmit(input: { type: RecordType; value: string }): Promise<Accepted>;
  /** Plain submit: the value travels (inside TLS) to ingest, which seals it. */
  submit(input: { type: RecordType; value: string }, options?: { idempotencyKey?: string }): Promise<Accepted>;
}

function validated(type: RecordType, value: string) {
  if (!RECORD_TYPES.includes(type)) throw new SealError('InvalidValue', 'unknown record type', { rule: 'type' });
  const check = checkValue(type, value);
  if (!check.ok) throw new SealError('InvalidValue', check.detail, { rule: check.rule });
  return check;
}

export function createClient(options: ClientOptions): CofferClient {
  const base = options.ingest.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? (() => new Date());
  const trustRoot = options.trustRoot ? PublicKey.fromBase64url('ed25519', options.trustRoot) : undefined;

  async function currentKey() {
    if (!trustRoot) throw new TypeError('sealing needs the trust root: createClient({ ingest, trustRoot })');
    let signed: { bundle?: unknown; signature?: unknown };
    try {
      const res = await fetchFn(`${base}/v1/keys/current`);
      if (!res.ok) throw new SealError('Unavailable', `ingest has no data key to offer (HTTP ${res.status})`);
      signed = (await res.json()) as typeof signed;
    } catch (err) {
      if (err instanceof SealError) throw err;
      throw new SealError('Unavailable', 'could not fetch the data key from ingest');
    }
    try {
      const verified = verifyDataKeyBundle(trustRoot, signed.bundle, String(signed.signature), ['x25519', 'xwing']);
      if (!bundleCovers(verified, now())) throw new SealError('KeyExpired', 'the signed data key is not valid now');
      return verified;
    } catch (err) {
      if (err instanceof SealError) throw err;
      if (isCryptoError(err) && err.code === 'BadSignature') {
        throw new SealError('BadSignature', 'the key bundle is not signed by this organisation’s trust root');
      }
      throw new SealError('InvalidBundle', 'the data key bundle is not well-formed');
    }
  }

  const client: CofferClient = {
    async seal({ type, value }) {
      const check = validated(type, value);
      const key = await currentKey();
      const id = newRecordId();
      const plaintext = Buffer.from(check.normalized, 'utf8');
      try {
        const blob = sealBlob(key.key, plaintext, recordBinding(id, type, key.id));
        const sealed = blob.toString('base64');
        return { id, type, keyId: key.id, sealed, hint: check.hint, idempotencyKey: randomUUID() };
      } finally {
        plaintext.fill(0);
      }
    },

    async submitSealed(s) {
      const body = JSON.stringify({ id: s.id, type: s.type, keyId: s.keyId, sealed: s.sealed, hint: s.hint });
      return (await postWithRetry(
        fetchFn,
        `${base}/v1/sealed-records`,
        body,
        s.idempotencyKey,
        options.retry,
      )) as Accepted;
    },

    async sealAndSubmit(input) {
      return client.submitSealed(await client.seal(input));
    },

    async submit({ type, value }, submitOptions = {}) {
      validated(type, value);
      const key = submitOptions.idempotencyKey ?? randomUUID();
      const body = JSON.stringify({ type, value });
      return (await postWithRetry(fetchFn, `${base}/v1/records`, body, key, options.retry)) as Accepted;
    },
  };
  return client;
}
