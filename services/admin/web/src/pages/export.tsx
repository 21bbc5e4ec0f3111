/**
 * Export: a filter and a reason, the CSV streamed with progress, the download, and the audit
 * events the export wrote. Explains the formula-injection prefix, which makes an exported cell
 * differ from a revealed value.
 */
import { useState } from 'preact/hooks';
import { ApiError, api, query, request } from '../api.ts';
import { readCompleteExport } from '../export-file.ts';
import { dayEnd, dayStart, download, when } from '../format.ts';
import { Alert, Busy, errorText, Field, PageHead } from '../ui.tsx';
import { type AuditEvent, EventTable } from './audit.tsx';

interface Done {
  exportId: string;
  rows: number;
  bytes: number;
  fileName: string;
}

export function ExportPage() {
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ rows: number; bytes: number } | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // issue 16 item 4a: an export above the two-person threshold is requested instead.
  const [needsApproval, setNeedsApproval] = useState(false);
  const [requested, setRequested] = useState<string | null>(null);
  const filter = () => ({
    ...(type ? { type } : {}),
    ...(from ? { from: dayStart(from) } : {}),
    ...(to ? { to: dayEnd(to) } : {}),
  });
  const askApproval = async () => {
    setError(null);
    try {
      const r = await api<{ records: number }>('POST', '/api/export-requests', { reason, ...filter() });
      setNeedsApproval(false);
      setRequested(
        `Requested an export of ${r.records.toLocaleString()} records. A second key-admin approves it under Approvals, where you then run it.`,
      );
    } catch (err) {
      setError(errorText(err));
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNeedsApproval(false);
    setRequested(null);
    setDone(null);
    setEvents(null);
    setProgress({ rows: 0, bytes: 0 });
    try {
      const res = await request('POST', '/api/exports', { reason, ...filter() });
      const fileName =
        /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'coffer-export.csv';
      const exportId = fileName.replace(/^coffer-export-|\.csv$/g, '');
      const { csv, rows, bytes } = await readCompleteExport(res, setProgress);
      download(fileName, 'text/csv', [csv]);
      setDone({ exportId, rows, bytes, fileName });
      const trail = await api<{ items: AuditEvent[] }>('GET', `/api/audit/events${query({ target: exportId })}`).catch(
        () => null,
      );
      setEvents(trail?.items ?? null);
    } catch (err) {
      setError(errorText(err));
      setNeedsApproval(err instanceof ApiError && err.type === 'approval-required');
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };

  return (
    <section>
      <PageHead title="Export">
        A CSV of decrypted values for the records you select. The export, its filter and your reason are audited.
      </PageHead>
      <div class="grid-2">
        <form class="card" onSubmit={submit}>
          <h2>New export</h2>
          <Field label="Type">
            {(id) => (
              <select id={id} value={type} onChange={(e) => setType(e.currentTarget.value)}>
                <option value="">All types</option>
                <option value="pan">Card numbers</option>
                <option value="ssn">SSNs</option>
                <option value="secret">Secrets</option>
              </select>
            )}
          </Field>
          <div class="row">
            <Field label="Submitted from">
              {(id) => <input id={id} type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />}
            </Field>
            <Field label="Submitted to">
              {(id) => <input id={id} type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />}
            </Field>
          </div>
          <Field label="Reason for exporting" hint="Required; recorded in the audit log.">
            {(id, hint) => (
              <input
                id={id}
                required
                minLength={3}
                maxLength={500}
                aria-describedby={hint}
                value={reason}
                onInput={(e) => setReason(e.currentTarget.value)}
              />
            )}
          </Field>
          {error ? <Alert>{error}</Alert> : null}
          {needsApproval ? (
            <button type="button" class="secondary" onClick={askApproval}>
              Request approval
            </button>
          ) : null}
          {requested ? <Alert kind="ok">{requested}</Alert> : null}
          <Busy type="submit" class="primary" busy={busy} label="Export CSV" busyLabel="Exporting…" />
          {progress ? (
            <p class="progress" role="status">
              <span class="spinner" aria-hidden="true" /> {progress.rows.toLocaleString()} records so far (
              {(progress.bytes / 1024).toFixed(1)} KiB)
            </p>
          ) : null}
        </form>
        <aside class="card muted" aria-labelledby="formula-title">
          <h2 id="formula-title">Why some cells start with '</h2>
          <p>
            A spreadsheet runs a cell that begins with <code>=</code>, <code>+</code>, <code>-</code> or <code>@</code>{' '}
            as a formula, which can leak data or run commands when the file is opened. Coffer therefore puts an
            apostrophe <code>'</code> before such a value in the CSV.
          </p>
          <p>
            So an exported secret like <code>=SUM(A1)</code> reads <code>'=SUM(A1)</code> in the file, while a reveal
            shows it exactly as stored. Card numbers and SSNs never start with these characters.
          </p>
        </aside>
      </div>
      {done ? (
        <div class="card" role="status">
          <h2>Export finished</h2>
          <p>
            <strong>{done.rows.toLocaleString()}</strong> records, {(done.bytes / 1024).toFixed(1)} KiB, saved as{' '}
            <code>{done.fileName}</code>. Export id <span class="mono">{done.exportId}</span>.
          </p>
          {events ? (
            <>
              <h3>In the audit log</h3>
              <EventTable events={events} caption="Audit events of this export" />
            </>
          ) : (
            <p class="hint">
              Recorded in the audit log as export.start and export.finish at {when(new Date().toISOString())}.
            </p>
          )}
        </div>
      ) : null}
    </section>
  );
}
