/**
 * Export: a filter and a reason, the CSV streamed with progress, the download, and the audit
 * events the export wrote. Explains the formula-injection prefix, which makes an exported cell
 * differ from a revealed value.
 */
import { useState } from 'preact/hooks';
import { ApiError, api, query, request } from '../api.ts';
import { readCompleteExport } from '../export-file.ts';
import { DateField, ReasonField, TypeSelect } from '../fields.tsx';
import { dayEnd, dayStart, download, when } from '../format.ts';
import { useAction } from '../hooks.ts';
import { Alert, Busy, errorText, PageHead } from '../ui.tsx';
import { type AuditEvent, EventTable } from './audit.tsx';

interface Done {
  exportId: string;
  rows: number;
  bytes: number;
  fileName: string;
}

type Progress = { rows: number; bytes: number };

/** Runs the export: streams it with progress, saves it once complete, then finds its audit events. */
function useExport() {
  const action = useAction();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  // issue 16 item 4a: an export above the two-person threshold is requested instead.
  const [needsApproval, setNeedsApproval] = useState(false);
  const start = (body: Record<string, unknown>) => {
    setNeedsApproval(false);
    setDone(null);
    setEvents(null);
    setProgress({ rows: 0, bytes: 0 });
    return action
      .run(
        async () => {
          const res = await request('POST', '/api/exports', body);
          const fileName =
            /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'coffer-export.csv';
          const exportId = fileName.replace(/^coffer-export-|\.csv$/g, '');
          const { csv, rows, bytes } = await readCompleteExport(res, setProgress);
          download(fileName, 'text/csv', [csv]);
          setDone({ exportId, rows, bytes, fileName });
          const trail = await api<{ items: AuditEvent[] }>(
            'GET',
            `/api/audit/events${query({ target: exportId })}`,
          ).catch(() => null);
          setEvents(trail?.items ?? null);
        },
        {
          fail: (err) => {
            setNeedsApproval(err instanceof ApiError && err.type === 'approval-required');
            return errorText(err);
          },
        },
      )
      .finally(() => setProgress(null));
  };
  return { ...action, start, progress, done, events, needsApproval, setNeedsApproval };
}

function ExportProgress(props: { progress: Progress }) {
  return (
    <p class="progress" role="status">
      <span class="spinner" aria-hidden="true" /> {props.progress.rows.toLocaleString()} records so far (
      {(props.progress.bytes / 1024).toFixed(1)} KiB)
    </p>
  );
}

function FormulaNote() {
  return (
    <aside class="card muted" aria-labelledby="formula-title">
      <h2 id="formula-title">Why some cells start with '</h2>
      <p>
        A spreadsheet runs a cell that begins with <code>=</code>, <code>+</code>, <code>-</code> or <code>@</code> as a
        formula, which can leak data or run commands when the file is opened. Coffer therefore puts an apostrophe{' '}
        <code>'</code> before such a value in the CSV.
      </p>
      <p>
        So an exported secret like <code>=SUM(A1)</code> reads <code>'=SUM(A1)</code> in the file, while a reveal shows
        it exactly as stored. Card numbers and SSNs never start with these characters.
      </p>
    </aside>
  );
}

function ExportDone(props: { done: Done; events: AuditEvent[] | null }) {
  const { done, events } = props;
  return (
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
  );
}

export function ExportPage() {
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [requested, setRequested] = useState<string | null>(null);
  const run = useExport();
  const filter = () => ({
    ...(type ? { type } : {}),
    ...(from ? { from: dayStart(from) } : {}),
    ...(to ? { to: dayEnd(to) } : {}),
  });
  const askApproval = async () => {
    run.setError(null);
    try {
      const r = await api<{ records: number }>('POST', '/api/export-requests', { reason, ...filter() });
      run.setNeedsApproval(false);
      setRequested(
        `Requested an export of ${r.records.toLocaleString()} records. A second key-admin approves it under Approvals, where you then run it.`,
      );
    } catch (err) {
      run.setError(errorText(err));
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    setRequested(null);
    return run.start({ reason, ...filter() });
  };

  return (
    <section>
      <PageHead title="Export">
        A CSV of decrypted values for the records you select. The export, its filter and your reason are audited.
      </PageHead>
      <div class="grid-2">
        <form class="card" onSubmit={submit}>
          <h2>New export</h2>
          <TypeSelect value={type} onValue={setType} all plural />
          <div class="row">
            <DateField label="Submitted from" value={from} onValue={setFrom} />
            <DateField label="Submitted to" value={to} onValue={setTo} />
          </div>
          <ReasonField
            label="Reason for exporting"
            hint="Required; recorded in the audit log."
            value={reason}
            onValue={setReason}
          />
          {run.error ? <Alert>{run.error}</Alert> : null}
          {run.needsApproval ? (
            <button type="button" class="secondary" onClick={askApproval}>
              Request approval
            </button>
          ) : null}
          {requested ? <Alert kind="ok">{requested}</Alert> : null}
          <Busy type="submit" class="primary" busy={run.busy} label="Export CSV" busyLabel="Exporting…" />
          {run.progress ? <ExportProgress progress={run.progress} /> : null}
        </form>
        <FormulaNote />
      </div>
      {run.done ? <ExportDone done={run.done} events={run.events} /> : null}
    </section>
  );
}
