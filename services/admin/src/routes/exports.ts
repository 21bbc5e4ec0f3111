/**
 * POST /api/exports — a CSV stream (id,type,value,submitted_at) of the records a filter selects.
 * Audited at the start (filter, reason) and at the end (count, outcome). Each data key is
 * unwrapped once per export. Cells that a spreadsheet would run as a formula are prefixed with '.
 *
 * A complete file ends with the trailer line `# coffer export complete: N records` (issue 9 item
 * 4a). An export that fails part-way (the vault dies, a page is refused) never gets it, and its
 * HTTP response is aborted (the connection is destroyed, so chunked encoding never terminates):
 * a client must treat a file without the trailer as incomplete.
 */
import { Readable } from 'node:stream';
import { callVault } from '@coffer/bus';
import type { PrivateKey, RecipientKind } from '@coffer/crypto';
import { Instant, Reason, RecordTypeSchema, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { refuseImpossibleInstants } from '../strict-input.ts';
import { RecordOpener, recordSuite, unwrapDataKey, unwrapUserKey } from '../unwrap.ts';
import { CsvBytes } from './csv-bytes.ts';
import type { AdminDeps } from './deps.ts';
import { exportPages } from './export-pages.ts';

const Body = Type.Object(
  {
    reason: Reason,
    type: Type.Optional(RecordTypeSchema),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    /** issue 16 item 4a: the approved request this export runs, when the filter needs one. */
    approvalId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

/** The last line of every complete export; the portal checks and removes it before saving. */
export const trailerLine = (count: number) => `# coffer export complete: ${count} records\r\n`;

export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const exportsRoute: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.post('/api/exports', { schema: { body: Body }, config: { action: 'export', csrf: true } }, async (req, reply) => {
    const { session, body } = req;
    if (refuseImpossibleInstants(reply, { from: body.from, to: body.to })) return reply; // issue 9 item 11
    const filter = {
      ...(body.type ? { type: body.type } : {}),
      ...(body.from ? { from: body.from } : {}),
      ...(body.to ? { to: body.to } : {}),
    };
    const origin = originOf(req);
    const begun = await callVault(deps.bus, 'export.begin', {
      v: 1,
      session: session.hash,
      reason: body.reason,
      origin,
      ...filter,
      ...(body.approvalId ? { approvalId: body.approvalId } : {}),
    });
    const finish = (count: number, outcome: 'success' | 'failure' | 'aborted') =>
      callVault(deps.bus, 'export.finish', {
        v: 1,
        session: session.hash,
        exportId: begun.exportId,
        count,
        outcome,
        origin,
      });

    async function* rows(): AsyncGenerator<string | Buffer> {
      const userKey = unwrapUserKey(session.token, begun.session);
      const dataKeys = new Map<string, PrivateKey<RecipientKind>>();
      const opener = new RecordOpener();
      let count = 0;
      let outcome: 'success' | 'failure' | 'aborted' = 'aborted';
      try {
        yield 'id,type,value,submitted_at\r\n';
        for await (const page of exportPages(deps.bus, session.hash, begun.exportId)) {
          const csv = new CsvBytes(page.records.length * 96, csvCell);
          for (const r of page.records) {
            let dataKey = dataKeys.get(r.dataKeyId);
            if (!dataKey) {
              const wrapped = page.wrappedDataKeys[r.dataKeyId];
              if (!wrapped) throw new Error(`no key for data key ${r.dataKeyId}`);
              dataKey = unwrapDataKey(userKey, begun.session.userId, r.dataKeyId, wrapped, recordSuite(r));
              dataKeys.set(r.dataKeyId, dataKey);
            }
            const plaintext = opener.openBytes(dataKey, r);
            csv.text(`${r.id},${r.type},`);
            csv.cell(plaintext);
            csv.text(`,${r.submittedAt}\r\n`);
            plaintext.fill(0);
          }
          count += page.records.length;
          if (page.records.length) yield csv.take();
        }
        yield trailerLine(count);
        outcome = 'success';
      } catch (err) {
        outcome = 'failure';
        // Headers are out: fastify answers a stream error by destroying the response, so the
        // client sees a cut connection, never a clean end (tests/export-interrupted.test.ts).
        throw err;
      } finally {
        opener.destroy();
        // Also when the client goes away mid-stream (the generator is returned, not thrown into).
        await finish(count, outcome).catch(() => {});
      }
    }

    return reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="coffer-export-${begun.exportId}.csv"`)
      .send(Readable.from(rows()));
  });
};
