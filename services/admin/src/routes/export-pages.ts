/**
 * The pages of one export, as the vault serves them: `export.chunk` (the binary page format,
 * issue 14 item 4) from a vault that has it, else `export.page` (JSON, one object per record) from
 * an older vault, which answers the first `export.chunk` with `unknown-operation`. The next binary
 * page is asked for while the caller works on the current one, so the vault's page work overlaps
 * the opening instead of adding to it.
 */
import { type Bus, callVault, VaultRefused } from '@coffer/bus';
import { parseRecordBlob } from '@coffer/crypto';
import { decodeExportPage } from '@coffer/protocol';
import type { SealedRecordBytes } from '../unwrap.ts';

export interface ExportRecord extends SealedRecordBytes {
  readonly submittedAt: string;
}

export interface ExportPageOf {
  readonly records: readonly ExportRecord[];
  /** The caller's wrapped copy of each data key the page's records use, by key id (base64). */
  readonly wrappedDataKeys: Readonly<Record<string, string>>;
}

/** Records per binary page; the vault also stops a page at its byte budget. */
const CHUNK = 4096;
/** Records per JSON page (`export.page`, at most 2,000 by its schema). */
const LEGACY_PAGE = 1000;

export async function* exportPages(bus: Bus, session: string, exportId: string): AsyncGenerator<ExportPageOf> {
  const chunk = (after: string | undefined) =>
    callVault(bus, 'export.chunk', { v: 1, session, exportId, limit: CHUNK, ...(after ? { after } : {}) });
  let pending = chunk(undefined);
  try {
    await pending;
  } catch (err) {
    if (!(err instanceof VaultRefused && err.code === 'unknown-operation')) throw err;
    yield* legacyPages(bus, session, exportId);
    return;
  }
  for (;;) {
    const reply = await pending;
    const records = decodeExportPage(Buffer.from(reply.page, 'base64'));
    const last = records.at(-1)?.id;
    const more = !reply.done && last !== undefined;
    if (more) {
      pending = chunk(last);
      // Awaited on the next turn; if the consumer stops first, the rejection is not unhandled.
      pending.catch(() => {});
    }
    yield { records, wrappedDataKeys: reply.wrappedDataKeys };
    if (!more) return;
  }
}

/** The JSON pages of a vault from before `export.chunk`: still read, record by record. */
async function* legacyPages(bus: Bus, session: string, exportId: string): AsyncGenerator<ExportPageOf> {
  for (let after: string | undefined; ; ) {
    const page = await callVault(bus, 'export.page', {
      v: 1,
      session,
      exportId,
      limit: LEGACY_PAGE,
      ...(after ? { after } : {}),
    });
    yield {
      wrappedDataKeys: page.wrappedDataKeys,
      records: page.records.map((r) => ({
        id: r.id,
        type: r.type,
        dataKeyId: r.dataKeyId,
        sealed: Buffer.from(r.sealed, 'base64'),
        contextEnc: contextEncOf(r, page.contexts),
        submittedAt: r.submittedAt,
      })),
    };
    if (page.records.length < LEGACY_PAGE) return;
    after = page.records.at(-1)?.id;
  }
}

/**
 * A JSON page's record context enc: inline on the record (X25519), or once in the page's
 * `contexts` by context id (X-Wing's 1,120 bytes, which on every record would pass the bus limit).
 */
function contextEncOf(
  record: { sealed: string; contextEnc?: string | null },
  contexts: Readonly<Record<string, string>> | undefined,
): Buffer | null {
  if (record.contextEnc) return Buffer.from(record.contextEnc, 'base64');
  if (!contexts) return null;
  const parsed = parseRecordBlob(Buffer.from(record.sealed, 'base64'), ['x25519', 'xwing']);
  const enc = parsed.version === 2 ? contexts[parsed.contextId] : undefined;
  return enc ? Buffer.from(enc, 'base64') : null;
}
