/**
 * Idempotency-Key across ingest replicas. The in-process cache (idempotency.ts) only helps when a
 * client's retry reaches the replica that took the first attempt; behind a load balancer, or after
 * that replica died, it does not. Here the first prepared submission for a (client scope, key) is
 * claimed in a JetStream stream every replica shares, before it is published:
 *
 *   subject  <ns>ingest.idempotency.<HMAC(secret, scope + key)>   one message per subject, ever
 *   value    { bodyMac: HMAC(secret, body), the prepared record message, the 202 answer }
 *
 * The stream keeps one message per subject and refuses a second (discard-new-per-subject), so the
 * server — not ingest's goodwill — makes the first claim win and keeps a later one from replacing
 * it; entries expire with the records stream's duplicate window. A replica that loses the claim
 * reads the winner's entry (direct get of that one subject) and publishes the same message with
 * the same Nats-Msg-Id: JetStream drops it if the winner's publish landed, stores it if the winner
 * died first. Either way one record, and the same answer.
 *
 * Keyed MACs, not plain hashes: the bus operator sees the subjects and the entries, and a plain
 * hash of a client address or of a PAN body is easy to invert. All replicas share the secret
 * (COFFER_IDEMPOTENCY_SECRET_FILE). Ingest may only publish to these subjects and direct-get them
 * (permissions.conf); it cannot list or delete entries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Bus, BusUnavailableError, type IdempotencyNames } from '@coffer/bus';
import type { PreparedRecord } from './prepared-record.ts';

const MAX_PER_SUBJECT = 10077; // JetStream: maximum messages per subject exceeded
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Entry {
  readonly v: 1;
  readonly bodyMac: string;
  readonly id: string;
  readonly message: string;
  readonly answer: PreparedRecord['answer'];
}

export class SharedIdempotency {
  readonly #bus: Bus;
  readonly #names: IdempotencyNames;
  readonly #secret: Buffer;

  constructor(bus: Bus, names: IdempotencyNames, secret: Buffer) {
    if (secret.length < 32) throw new Error('the idempotency secret must be at least 32 bytes');
    this.#bus = bus;
    this.#names = names;
    this.#secret = secret;
  }

  /**
   * The submission to publish for this scope and body: `prepared` if this call claimed the key
   * first, the first claimant's otherwise, or 'conflict' if the key was claimed for another body.
   * Throws BusUnavailableError when the claim cannot be made or read (the caller answers 503).
   */
  async claim(scope: string, body: string, prepared: PreparedRecord): Promise<PreparedRecord | 'conflict'> {
    const subject = `${this.#names.subjectPrefix}.${this.#mac('key', scope).toString('hex')}`;
    const bodyMac = this.#mac('body', body);
    const entry: Entry = {
      v: 1,
      bodyMac: bodyMac.toString('base64'),
      id: prepared.id,
      message: Buffer.from(prepared.message).toString('base64'),
      answer: prepared.answer,
    };
    // An entry that expires between the failed claim and the read is claimed again, once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const ack = JSON.parse(
        decoder.decode(await this.#bus.request(subject, encoder.encode(JSON.stringify(entry)))),
      ) as {
        seq?: number;
        error?: { err_code?: number };
      };
      if (ack.seq && !ack.error) return prepared;
      if (ack.error?.err_code !== MAX_PER_SUBJECT) throw new BusUnavailableError('idempotency claim refused');
      const stored = await this.#bus.request(`$JS.API.DIRECT.GET.${this.#names.stream}.${subject}`, new Uint8Array());
      if (stored.length === 0) continue;
      const winner = JSON.parse(decoder.decode(stored)) as Entry;
      const theirs = Buffer.from(winner.bodyMac, 'base64');
      if (theirs.length !== bodyMac.length || !timingSafeEqual(theirs, bodyMac)) return 'conflict';
      return { id: winner.id, message: Buffer.from(winner.message, 'base64'), answer: winner.answer };
    }
    throw new BusUnavailableError('idempotency entry vanished twice');
  }

  #mac(purpose: 'key' | 'body', text: string): Buffer {
    return createHmac('sha256', this.#secret).update(`coffer-idempotency-${purpose}\0`).update(text).digest();
  }
}
