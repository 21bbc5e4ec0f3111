/**
 * `keys.current`: the signed bundle of the data key whose window covers now and that no rotation
 * superseded (issue 15: a revocation starts a fresh window at once). With none, the vault
 * keeps answering with the newest key it has (it never makes one: no service on the data path
 * generates keys) and reports itself degraded, in /readyz, in a metric and once a day in the audit log.
 */
import { encodeJson, type KeyBundleReply } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from './audit.ts';

export interface KeyStatus {
  readonly degraded: boolean;
  readonly keyId: string | null;
  readonly reason: string | null;
  /** Days until the last data key's window ends: rotation must add keys before this reaches 0. */
  readonly horizonDays?: number | null;
}

interface KeyRow {
  id: string;
  bundle: { id: string; publicKey: string; notBefore: string; notAfter: string };
  signature: string;
  covers: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class CurrentKey {
  #status: KeyStatus = { degraded: true, keyId: null, reason: 'not checked yet' };
  readonly #sql: postgres.Sql;
  readonly #now: () => Date;

  constructor(sql: postgres.Sql, now: () => Date) {
    this.#sql = sql;
    this.#now = now;
  }

  get status(): KeyStatus {
    return this.#status;
  }

  async #find(): Promise<KeyRow | undefined> {
    const now = this.#now();
    const [row] = await this.#sql<KeyRow[]>`
      SELECT id, bundle, signature, (not_before <= ${now} AND ${now} < not_after AND retired_at IS NULL) AS covers
      FROM data_keys
      ORDER BY (not_before <= ${now} AND ${now} < not_after AND retired_at IS NULL) DESC, not_before DESC
      LIMIT 1`;
    return row;
  }

  #checking: Promise<KeyStatus> | undefined;

  /**
   * Look again and record what was found; audit a degraded state at most once a day. One check at
   * a time: two at once would both find no recent audit event and write two.
   */
  check(): Promise<KeyStatus> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<KeyStatus> {
    const row = await this.#find();
    const [{ last } = { last: null }] = await this.#sql<
      { last: Date | null }[]
    >`SELECT max(not_after) AS last FROM data_keys`;
    const horizonDays = last ? Math.floor((last.getTime() - this.#now().getTime()) / DAY_MS) : null;
    if (row?.covers) {
      this.#status = { degraded: false, keyId: row.id, reason: null, horizonDays };
      return this.#status;
    }
    const reason = row ? 'no data key covers now; serving the newest' : 'no data keys';
    this.#status = { degraded: true, keyId: row?.id ?? null, reason, horizonDays };
    const now = this.#now();
    // Before `coffer init` there are no keys by design; that is not worth an audit event.
    if (!row && (await this.#sql`SELECT 1 FROM org`).length === 0) return this.#status;
    await this.#sql.begin(async (tx) => {
      const [recent] = await tx`SELECT 1 FROM audit_events
        WHERE action = 'data-key.degraded' AND at > ${new Date(now.getTime() - DAY_MS)} LIMIT 1`;
      if (!recent) {
        await appendAudit(
          tx,
          {
            actor: 'vault',
            action: 'data-key.degraded',
            target: row?.id ?? null,
            outcome: 'failure',
            details: { reason },
          },
          now,
        );
      }
    });
    return this.#status;
  }

  /** The `keys.current` reply. */
  async reply(): Promise<Uint8Array> {
    const row = await this.#find();
    if (!row?.covers) void this.check().catch(() => {});
    const reply: KeyBundleReply = row
      ? { v: 1, bundle: row.bundle, signature: row.signature }
      : { v: 1, error: 'no data key' };
    return encodeJson(reply);
  }
}
