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
import { createHmac } from 'node:crypto';
import type { Bus } from '@coffer/bus';
import type { AlertMessage } from '@coffer/protocol';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { appendAudit } from './audit.ts';
import type { VaultMetrics } from './metrics.ts';

const TAG_VERSION = 1;
const TAG_LABEL = 'coffer-decoy-tag-v1\0';

export function decoyTag(key: Buffer, recordId: string): Buffer {
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
  readonly #key: Buffer | undefined;
  readonly #alerts: DecoyAlerts | undefined;

  /** Without a key, planting is refused and nothing is ever a decoy. */
  constructor(key: Buffer | undefined, alerts?: DecoyAlerts) {
    if (key && key.length < 32) throw new Error('the decoy key must be at least 32 bytes');
    this.#key = key ? Buffer.from(key) : undefined;
    this.#alerts = alerts;
  }

  get configured(): boolean {
    return this.#key !== undefined;
  }

  tag(recordId: string): Buffer {
    if (!this.#key) throw new Error('no decoy key');
    return decoyTag(this.#key, recordId);
  }

  /** Which of these records are decoys. The same work for any set of ids of the same size. */
  async find(sql: postgres.Sql | postgres.TransactionSql, recordIds: readonly string[]): Promise<Set<string>> {
    if (!this.#key || recordIds.length === 0) return new Set();
    const byTag = new Map(recordIds.map((id) => [this.tag(id).toString('hex'), id]));
    const hexes = [...byTag.keys()];
    const hits = await sql<{ tag: Buffer }[]>`SELECT tag FROM decoy_tags
      WHERE tag IN (SELECT decode(h, 'hex') FROM unnest(${hexes}::text[]) AS h)`;
    return new Set(hits.map((h) => byTag.get(h.tag.toString('hex')) as string));
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
