/**
 * The vault's reply key (issue 9, item 2): an Ed25519 key of the vault's own, in a file on its
 * host (COFFER_VAULT_REPLY_KEY_FILE, made at first start, mode 0600) or, without one, for the life
 * of the process. It signs every `vault.admin.*` reply to a request that asked for it (carried a
 * `replyNonce`), once the org key has certified it (`vault_reply_keys`, written at bootstrap or
 * by `keys.certify-vault`). Until then replies go unsigned, and an admin plane that requires
 * signed replies refuses them. It opens nothing: the vault still holds no key that reads a record.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  decodeVaultReplyKeyFile,
  encodeVaultReplyKeyFile,
  PrivateKey,
  signVaultReply,
  signVaultReplyFrame,
} from '@coffer/crypto';
import { encodeJson, encodeReplyFrame, type SignedAdminReply } from '@coffer/protocol';
import type postgres from 'postgres';

const decoder = new TextDecoder('utf-8', { fatal: true });

async function loadOrMake(file: string): Promise<PrivateKey<'ed25519'>> {
  try {
    return decodeVaultReplyKeyFile(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = PrivateKey.generate('ed25519');
  // 'wx': two replicas starting on one shared file at once must not each write their own key.
  const handle = await open(file, 'wx', 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return undefined;
    throw err;
  });
  if (!handle) return decodeVaultReplyKeyFile(await readFile(file, 'utf8'));
  try {
    await handle.writeFile(encodeVaultReplyKeyFile(key));
  } finally {
    await handle.close();
  }
  return key;
}

export class ReplySigner {
  readonly #key: PrivateKey<'ed25519'>;
  readonly #sql: postgres.Sql;
  /** The org key's certificate for this key, once stored; looked up until then. */
  #certificate: string | undefined;
  readonly publicKey: string;
  readonly #rawPublicKey: Buffer;
  /** What an operator compares before certifying (printed at start). */
  readonly fingerprint: string;

  private constructor(key: PrivateKey<'ed25519'>, sql: postgres.Sql) {
    this.#key = key;
    this.#sql = sql;
    this.publicKey = key.publicKey.toBase64url();
    this.#rawPublicKey = Buffer.from(this.publicKey, 'base64url');
    this.fingerprint = key.publicKey.fingerprint();
  }

  static async open(sql: postgres.Sql, file: string | undefined): Promise<ReplySigner> {
    return new ReplySigner(file ? await loadOrMake(file) : PrivateKey.generate('ed25519'), sql);
  }

  async certified(): Promise<boolean> {
    if (this.#certificate === undefined) {
      const [row] = await this.#sql<{ certificate: string }[]>`
        SELECT certificate FROM vault_reply_keys WHERE public_key = ${this.publicKey}`;
      this.#certificate = row?.certificate;
    }
    return this.#certificate !== undefined;
  }

  /** The reply to send for `request` on `op`: signed (envelope v2) once certified, else as is. */
  async seal(op: string, request: Uint8Array, reply: Uint8Array): Promise<Uint8Array> {
    if (!(await this.certified()) || this.#certificate === undefined) return reply;
    const envelope: SignedAdminReply = {
      v: 2,
      reply: decoder.decode(reply),
      key: this.publicKey,
      certificate: this.#certificate,
      signature: signVaultReply(this.#key, op, request, reply),
    };
    return encodeJson(envelope);
  }

  /**
   * A reply frame around `body` (the reply's JSON and its attachment, protocol reply-frame.ts):
   * signed once certified, the body hashed once and never re-encoded (copied once, into the frame);
   * else unsigned.
   */
  async sealFrame(op: string, request: Uint8Array, body: Uint8Array): Promise<Uint8Array> {
    if (!(await this.certified()) || this.#certificate === undefined) return encodeReplyFrame(body);
    return encodeReplyFrame(body, {
      key: this.#rawPublicKey,
      certificate: Buffer.from(this.#certificate, 'base64url'),
      signature: signVaultReplyFrame(this.#key, op, request, body),
    });
  }
}
