/**
 * Decoy records (issue 16, item 3): tripwires among the real records. A decoy is an ordinary row of
 * `records` (sealed, hinted and dated like any other); what marks it is a row of `decoy_tags`:
 * 0x01 || HMAC-SHA256(decoy key, 'coffer-decoy-tag-v1' 0x00 record id). The decoy key is read from
 * COFFER_DECOY_KEY_FILE into this process only: the database holds tags it cannot attribute, the
 * admin plane and the bus never see the key, so neither a viewer's session nor a database reader
 * can tell a decoy from a real record. The vault is the detector because it is the one party
 * present at every reveal and export page (the key-admins who hold the org key are not).
 *
 * Every reveal and export page is checked the same way (one HMAC per record, one indexed lookup),
 * decoy or not; the alert (an audit event of its own, a counter, a bus alert) is raised after the
 * reply has gone, so the person's response neither waits for it nor fails with it.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Bus } from '@coffer/bus';
import type { AlertMessage } from '@coffer/protocol';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { appendAudit } from './audit.ts';
import type { VaultMetrics } from './metrics.ts';

const TAG_VERSION = 1;
const TAG_LABEL = 'coffer-decoy-tag-v1\0';

const TAG_LENGTH = 33;
/** Up to this many planted tags, a page reads them all instead of asking for its own 4,096. */
const READ_ALL_UP_TO = 4096;
/** Up to this many ids (a reveal is one), their own tags are looked up: an index probe each. */
const PROBE_UP_TO = 64;

export function decoyTag(key: Buffer | KeyObject, recordId: string): Buffer {
  const mac = createHmac('sha256', key).update(TAG_LABEL).update(recordId.toLowerCase()).digest();
  return Buffer.concat([Buffer.from([TAG_VERSION]), mac]);
}

/** A reveal or export that served a decoy: who, how, and from where. */
export interface DecoyTouch {
  readonly recordId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly via: 'reveal' | 'export';
  readonly exportId?: string;
  readonly origin?: string;
}

export interface DecoyAlerts {
  readonly sql: postgres.Sql;
  readonly bus: Bus;
  readonly metrics: VaultMetrics;
  readonly log: Logger;
  readonly now: () => Date;
}

export class Decoys {
  /** A KeyObject made once: an HMAC per record id does not import the key again each time. */
  readonly #key: KeyObject | undefined;
  readonly #alerts: DecoyAlerts | undefined;

  /** Without a key, planting is refused and nothing is ever a decoy. */
  constructor(key: Buffer | undefined, alerts?: DecoyAlerts) {
    if (key && key.length < 32) throw new Error('the decoy key must be at least 32 bytes');
    this.#key = key ? createSecretKey(key) : undefined;
    this.#alerts = alerts;
  }

  get configured(): boolean {
    return this.#key !== undefined;
  }

  tag(recordId: string): Buffer {
    if (!this.#key) throw new Error('no decoy key');
    return decoyTag(this.#key, recordId);
  }

  /**
   * Which of these records are decoys. The same work for any set of ids of the same size: one
   * HMAC per id, then for a page, while few decoys are planted (the usual case), one read of every
   * tag, matched here; for a few ids (a reveal) or with many decoys, one lookup of these ids' tags,
   * sent as one bytea (not 4,096 hex strings).
   */
  async find(sql: postgres.Sql | postgres.TransactionSql, recordIds: readonly string[]): Promise<Set<string>> {
    if (!this.#key || recordIds.length === 0) return new Set();
    const tags = Buffer.allocUnsafe(recordIds.length * TAG_LENGTH);
    recordIds.forEach((id, i) => {
      this.tag(id).copy(tags, i * TAG_LENGTH);
    });
    let planted =
      recordIds.length > PROBE_UP_TO
        ? await sql<{ tag: Buffer }[]>`SELECT tag FROM decoy_tags LIMIT ${READ_ALL_UP_TO + 1}`
        : [];
    if (recordIds.length <= PROBE_UP_TO || planted.length > READ_ALL_UP_TO) {
      planted = await sql<{ tag: Buffer }[]>`SELECT tag FROM decoy_tags WHERE tag IN (
        SELECT substring(${tags}::bytea FROM i * ${TAG_LENGTH} + 1 FOR ${TAG_LENGTH})
        FROM generate_series(0, ${recordIds.length - 1}) AS i)`;
    }
    // By the tag's first four MAC bytes, then compared whole: no string per record.
    const byPrefix = new Map<number, Buffer[]>();
    for (const { tag } of planted) {
      if (tag.length !== TAG_LENGTH) continue;
      const prefix = tag.readUInt32BE(1);
      byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), tag]);
    }
    const hits = new Set<string>();
    recordIds.forEach((id, i) => {
      const at = i * TAG_LENGTH;
      const candidates = byPrefix.get(tags.readUInt32BE(at + 1));
      if (candidates?.some((t) => tags.compare(t, 0, TAG_LENGTH, at, at + TAG_LENGTH) === 0)) hits.add(id);
    });
    return hits;
  }

  /** Raise the alert after the current reply has been sent; a failure is logged, never thrown. */
  raise(touches: readonly DecoyTouch[]): void {
    const alerts = this.#alerts;
    if (!alerts || touches.length === 0) return;
    setImmediate(() => {
      void raiseNow(alerts, touches).catch((err) =>
        alerts.log.error({ err: (err as Error).message }, 'alert: decoy touched, but the alert could not be raised'),
      );
    });
  }
}

async function raiseNow(a: DecoyAlerts, touches: readonly DecoyTouch[]): Promise<void> {
  const at = a.now();
  for (const t of touches) {
    a.metrics.decoyTouches.inc({ via: t.via });
    // The actor is the vault, not the person: a viewer reads their own audit trail, and must not
    // find this event there.
    const details = { user: t.userId, session: t.sessionId, via: t.via, ...(t.exportId ? { export: t.exportId } : {}) };
    const seq = await a.sql.begin((tx) =>
      appendAudit(
        tx,
        {
          actor: 'vault',
          action: 'alert.decoy',
          target: t.recordId,
          outcome: 'success',
          ...(t.origin ? { origin: t.origin } : {}),
          details,
        },
        at,
      ),
    );
    a.log.warn({ alert: 'decoy', recordId: t.recordId, userId: t.userId, via: t.via, seq }, 'alert: decoy touched');
    const message: AlertMessage = {
      v: 1,
      kind: 'decoy',
      at: at.toISOString(),
      recordId: t.recordId,
      auditSeq: seq,
      ...details,
    };
    await a.bus.publishAlert('decoy', new TextEncoder().encode(JSON.stringify(message)));
  }
}
