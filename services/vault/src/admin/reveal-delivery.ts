/**
 * Reveal delivery (issue 9 item 4d). The vault's `record.reveal` success event means the sealed
 * value was released to the admin plane, not that a person saw it. When the admin plane times out
 * waiting for the answer it reports the request undelivered: the vault marks the request abandoned
 * (so a request still on its way is not released afterwards) and audits
 * `record.reveal.undelivered`, saying whether that request had been released.
 */
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import type { AdminHandlers } from './router.ts';

export function revealDeliveryHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'records.reveal-undelivered'> {
  return {
    'records.reveal-undelivered': async (req, { now, caller }) => {
      await sql.begin(async (tx) => {
        const [before] = await tx<{ state: string }[]>`
          SELECT state FROM reveal_requests WHERE request_id = ${req.requestId} FOR UPDATE`;
        if (before?.state === 'abandoned') return; // already recorded (a retry)
        await tx`INSERT INTO reveal_requests (request_id, state) VALUES (${req.requestId}, 'abandoned')
          ON CONFLICT (request_id) DO UPDATE SET state = 'abandoned'`;
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'record.reveal.undelivered',
            target: req.recordId,
            outcome: 'failure',
            origin: req.origin,
            details: { requestId: req.requestId, released: before?.state === 'released', error: req.error },
          },
          now,
        );
      });
    },
  };
}

/** The janitor: request ids older than a day are past any retry. */
export async function forgetRevealRequests(sql: postgres.Sql): Promise<void> {
  await sql`DELETE FROM reveal_requests WHERE at < now() - interval '1 day'`;
}
