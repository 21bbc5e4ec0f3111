/**
 * The pages of one export, as the vault serves them: `export.block` (the binary page as a reply
 * frame's attachment, issue 14) from a vault that has it, else `export.chunk` (the same page in
 * base64 JSON), else `export.page` (JSON, one object per record) from an older vault still; each
 * older vault answers the first call it does not know with `unknown-operation`. The next binary
 * page is asked for while the caller works on the current one, so the vault's page work overlaps
 * the opening instead of adding to it.
 */
import { type Bus, callVault, callVaultAttached, VaultRefused } from '@coffer/bus';
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

interface BinaryPage {
  readonly page: Buffer;
  readonly done: boolean;
  readonly wrappedDataKeys: Readonly<Record<string, string>>;
}

type PageCall = (after: string | undefined) => Promise<BinaryPage>;

const isUnknownOperation = (err: unknown) => err instanceof VaultRefused && err.code === 'unknown-operation';

export async function* exportPages(bus: Bus, session: string, exportId: string): AsyncGenerator<ExportPageOf> {
  const request = (after: string | undefined) => ({
    v: 1 as const,
    session,
    exportId,
    limit: CHUNK,
    ...(after ? { after } : {}),
  });
  const block: PageCall = async (after) => {
    const { result, attachment } = await callVaultAttached(bus, 'export.block', request(after));
    return { ...result, page: attachment };
  };
  const chunk: PageCall = async (after) => {
    const reply = await callVault(bus, 'export.chunk', request(after));
    return { ...reply, page: Buffer.from(reply.page, 'base64') };
  };
  for (const call of [block, chunk]) {
    const first = call(undefined);
    try {
      await first;
    } catch (err) {
      if (isUnknownOperation(err)) continue;
      throw err;
    }
    yield* binaryPages(call, first);
    return;
  }
  yield* legacyPages(bus, session, exportId);
}

async function* binaryPages(call: PageCall, first: Promise<BinaryPage>): AsyncGenerator<ExportPageOf> {
  let pending = first;
  for (;;) {
    const reply = await pending;
    const records = decodeExportPage(reply.page);
    const last = records.at(-1)?.id;
    const more = !reply.done && last !== undefined;
    if (more) {
      pending = call(last);
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
