/**
 * Reading an export response to the end (issue 9 item 4a): a complete export ends with the line
 * `# coffer export complete: N records`; without it the vault or the connection failed part-way,
 * and nothing may be saved as if it were whole. Shared by Export and Approvals.
 */

import { Notice } from './ui.tsx';

export class ExportIncomplete extends Notice {
  override readonly name = 'ExportIncomplete';
  constructor() {
    super(
      'The export was interrupted before it ended, so nothing was saved. It is recorded as interrupted; start it again.',
    );
  }
}

/** The CSV without its trailer line, and how many records and bytes it held; or ExportIncomplete. */
export async function readCompleteExport(
  res: Response,
  onProgress?: (p: { rows: number; bytes: number }) => void,
): Promise<{ csv: string; rows: number; bytes: number }> {
  const reader = res.body?.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  let newlines = 0;
  try {
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      parts.push(chunk.value);
      bytes += chunk.value.length;
      for (const b of chunk.value) if (b === 10) newlines++;
      onProgress?.({ rows: Math.max(0, newlines - 1), bytes });
    }
  } catch {
    throw new ExportIncomplete(); // the connection was cut: that is what an interrupted export looks like
  }
  const whole = await new Blob(parts as BlobPart[]).text();
  // Drop our copy of the bytes: the file is the user's now.
  parts.length = 0;
  const trailer = /# coffer export complete: (\d+) records\r\n$/.exec(whole);
  if (!trailer) throw new ExportIncomplete();
  return { csv: whole.slice(0, trailer.index), rows: Number(trailer[1]), bytes };
}
