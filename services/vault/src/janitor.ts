/**
 * The vault's minutely work: the data key's status always; unless the janitor is off (a test that
 * runs these steps itself), expired sessions, interrupted exports, forgotten reveal requests, due
 * recovery holds and the retention purge. Each step fails alone and is tried again a minute later.
 */
import type { Logger } from 'pino';
import type postgres from 'postgres';
import { closeInterruptedExports } from './admin/export-binding.ts';
import { releaseRecoveryHolds } from './admin/recovery-holds.ts';
import { forgetRevealRequests } from './admin/reveal-delivery.ts';
import { deleteExpiredSessions } from './admin/sessions.ts';
import type { VaultMetrics } from './metrics.ts';
import { purgeExpired } from './purge.ts';

/** Starts the minutely timer; returns what stops it. */
export function startJanitor(
  options: { readonly sql: postgres.Sql; readonly log: Logger; readonly janitor?: boolean },
  parts: { readonly now: () => Date; readonly metrics: VaultMetrics; readonly refreshStatus: () => Promise<void> },
): () => void {
  const { sql, log } = options;
  const { now, metrics } = parts;
  const timer = setInterval(() => {
    void parts.refreshStatus().catch(() => {});
    if (options.janitor === false) return;
    void deleteExpiredSessions(sql, now()).catch(() => {});
    void closeInterruptedExports(sql, now()).catch(() => {}); // issue 9 item 4
    void forgetRevealRequests(sql).catch(() => {}); // issue 9 item 4d
    void releaseRecoveryHolds(sql, now()).catch((err) =>
      log.error({ err: (err as Error).message }, 'releasing held recoveries failed'),
    ); // issue 16 item 4c
    void purgeExpired(sql, now()).then(
      (purged) => {
        metrics.purgedRecords.inc(purged.records);
        metrics.destroyedDataKeys.inc(purged.dataKeys);
      },
      (err) => log.error({ err: (err as Error).message }, 'purge failed'),
    );
  }, 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
