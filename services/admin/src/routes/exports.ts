/**
 * POST /api/exports — a CSV stream (id,type,value,submitted_at) of the records a filter selects.
 * Audited at the start (filter, reason) and at the end (count, outcome). Each data key is
 * unwrapped once per export. Cells that a spreadsheet would run as a formula are prefixed with '.
 */
import { Readable } from 'node:stream';
import { callVault } from '@coffer/bus';
import type { PrivateKey } from '@coffer/crypto';
import { FREE_TEXT_PATTERN, RECORD_TYPES, type SessionKeyMaterial } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { originOf } from '../session.ts';
import { refuseImpossibleInstants } from '../strict-input.ts';
import { RecordOpener, unwrapDataKey, unwrapUserKey } from '../unwrap.ts';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$' });
const Body = Type.Object(
  {
    reason: Type.String({ minLength: 3, maxLength: 500, pattern: FREE_TEXT_PATTERN }),
    type: Type.Optional(Type.Union(RECORD_TYPES.map((t) => Type.Literal(t)))),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
  },
  { additionalProperties: false },
);

const PAGE = 1000;

interface Page {
  records: {
    id: string;
    type: string;
    dataKeyId: string;
    sealed: string;
    contextEnc: string | null;
    submittedAt: string;
  }[];
  wrappedDataKeys: Record<string, string>;
}

export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const exportsRoute: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.post('/api/exports', { schema: { body: Body } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'export', { csrf: true });
    if (!session) return reply;
    const body = req.body as { reason: string; type?: string; from?: string; to?: string };
    if (refuseImpossibleInstants(reply, { from: body.from, to: body.to })) return reply; // issue 9 item 11
    const filter = {
      ...(body.type ? { type: body.type } : {}),
      ...(body.from ? { from: body.from } : {}),
      ...(body.to ? { to: body.to } : {}),
    };
    const origin = originOf(req);
    let begun: { exportId: string; session: SessionKeyMaterial };
    try {
      begun = await callVault(deps.bus, 'export.begin', {
        v: 1,
        session: session.hash,
        reason: body.reason,
        origin,
        ...filter,
      });
    } catch (err) {
      return sendVaultError(reply, err);
    }
    const finish = (count: number, outcome: 'success' | 'failure' | 'aborted') =>
      callVault(deps.bus, 'export.finish', {
        v: 1,
        session: session.hash,
        exportId: begun.exportId,
        count,
        outcome,
        origin,
      });

    async function* rows(): AsyncGenerator<string> {
      const userKey = unwrapUserKey(session?.token as string, begun.session);
      const dataKeys = new Map<string, PrivateKey<'x25519'>>();
      const opener = new RecordOpener();
      let count = 0;
      let after: string | undefined;
      let outcome: 'success' | 'failure' | 'aborted' = 'aborted';
      try {
        yield 'id,type,value,submitted_at\r\n';
        for (;;) {
          const page = await callVault<Page>(deps.bus, 'export.page', {
            v: 1,
            session: session?.hash,
            exportId: begun.exportId,
            limit: PAGE,
            ...(after ? { after } : {}),
          });
          const lines: string[] = [];
          for (const r of page.records) {
            let dataKey = dataKeys.get(r.dataKeyId);
            if (!dataKey) {
              const wrapped = page.wrappedDataKeys[r.dataKeyId];
              if (!wrapped) throw new Error(`no key for data key ${r.dataKeyId}`);
              dataKey = unwrapDataKey(userKey, begun.session.userId, r.dataKeyId, wrapped);
              dataKeys.set(r.dataKeyId, dataKey);
            }
            const plaintext = opener.open(dataKey, r);
            lines.push(`${r.id},${r.type},${csvCell(plaintext.toString('utf8'))},${r.submittedAt}\r\n`);
            plaintext.fill(0);
          }
          count += page.records.length;
          if (lines.length) yield lines.join('');
          if (page.records.length < PAGE) break;
          after = page.records.at(-1)?.id;
        }
        outcome = 'success';
      } catch (err) {
        outcome = 'failure';
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
