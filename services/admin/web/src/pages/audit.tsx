/**
 * The audit log: newest first, paging both ways, filters, actors by email (id on hover), the hash
 * chain's verification, and the filtered view exported as CSV or JSON lines.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { DataTable, DateField, InputField } from '../fields.tsx';
import { dayEnd, dayStart, download, when } from '../format.ts';
import { useAction } from '../hooks.ts';
import { Alert, Busy, errorText, Field, PageHead } from '../ui.tsx';

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  actorEmail: string | null;
  action: string;
  target: string | null;
  reason: string | null;
  outcome: 'success' | 'failure' | 'denied';
  origin: string | null;
  details: Record<string, unknown> | null;
}

interface Page {
  items: AuditEvent[];
  older: number | null;
  newer: number | null;
}

type Verdict = { ok: true; events: number; head: string } | { ok: false; brokenAt: number; events: number };

const EVENT_COLUMNS = ['#', 'Time', 'Actor', 'Action', 'Target', 'Reason', 'Outcome'];

export function EventTable(props: { events: AuditEvent[]; caption: string }) {
  return (
    <DataTable label={props.caption} columns={EVENT_COLUMNS}>
      {props.events.map((e) => (
        <tr key={e.seq}>
          <td class="mono">{e.seq}</td>
          <td class="nowrap">{when(e.at)}</td>
          <td>
            {e.actorEmail ? (
              <span title={`User id ${e.actor}`}>
                {e.actorEmail}
                <span class="sr-only"> (id {e.actor})</span>
              </span>
            ) : (
              <span class="muted-text">{e.actor}</span>
            )}
          </td>
          <td class="mono">{e.action}</td>
          <td class="mono truncate" title={e.target ?? ''}>
            {e.target ?? '—'}
          </td>
          <td>{e.reason ?? '—'}</td>
          <td>
            <span class={`badge outcome-${e.outcome}`}>{e.outcome}</span>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

const PAGE = 50;
const NO_FILTERS = { actor: '', action: '', target: '', outcome: '', from: '', to: '' };
type Filters = typeof NO_FILTERS;

function filterQuery(filters: Filters, extra: Record<string, number | undefined>): string {
  return query({
    actor: filters.actor.trim(),
    action: filters.action.trim(),
    target: filters.target.trim(),
    outcome: filters.outcome,
    from: dayStart(filters.from),
    to: dayEnd(filters.to),
    ...extra,
  });
}

const CSV_COLUMNS = [
  'seq',
  'at',
  'actor',
  'actorEmail',
  'action',
  'target',
  'reason',
  'outcome',
  'origin',
  'details',
] as const;

/** One CSV cell: quoted where needed, and a leading formula character defused with an apostrophe. */
function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Every event under these filters (all pages), saved as CSV or JSON lines. */
async function exportView(filters: Filters, format: 'csv' | 'jsonl'): Promise<void> {
  const all: AuditEvent[] = [];
  let before: number | undefined;
  for (;;) {
    const p = await api<Page>('GET', `/api/audit/events${filterQuery(filters, { before, limit: 500 })}`);
    all.push(...p.items);
    if (p.older === null) break;
    before = p.older;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  if (format === 'jsonl') {
    download(
      `coffer-audit-${stamp}.jsonl`,
      'application/x-ndjson',
      all.map((e) => `${JSON.stringify(e)}\n`),
    );
  } else {
    const lines = [
      `${CSV_COLUMNS.join(',')}\r\n`,
      ...all.map((e) => `${CSV_COLUMNS.map((c) => csvCell(e[c])).join(',')}\r\n`),
    ];
    download(`coffer-audit-${stamp}.csv`, 'text/csv', lines);
  }
}

function VerdictAlert(props: { verdict: Verdict }) {
  const { verdict } = props;
  return verdict.ok ? (
    <Alert kind="ok">
      Chain verified: all {verdict.events.toLocaleString()} events link up. Head hash{' '}
      <span class="mono">{verdict.head.slice(0, 16)}…</span>
    </Alert>
  ) : (
    <Alert>
      The chain is broken at event #{verdict.brokenAt} ({verdict.events.toLocaleString()} events verified before it).
      Treat the log from there on as tampered with, and follow the incident procedure.
    </Alert>
  );
}

function Toolbar(props: {
  filters: Filters;
  run: ReturnType<typeof useAction>['run'];
  onVerdict: (v: Verdict) => void;
}) {
  const [verifying, setVerifying] = useState(false);
  const [exporting, setExporting] = useState(false);
  // Each button has its own busy state; a failure goes to the page's error line.
  const verify = () => {
    setVerifying(true);
    return props
      .run(async () => props.onVerdict(await api<Verdict>('GET', '/api/audit/verify')))
      .finally(() => setVerifying(false));
  };
  const save = (format: 'csv' | 'jsonl') => {
    setExporting(true);
    return props.run(() => exportView(props.filters, format)).finally(() => setExporting(false));
  };
  return (
    <div class="toolbar">
      <Busy
        type="button"
        class="secondary"
        busy={verifying}
        label="Verify the chain"
        busyLabel="Verifying…"
        onClick={verify}
      />
      <button type="button" class="secondary" disabled={exporting} onClick={() => save('csv')}>
        Export view as CSV
      </button>
      <button type="button" class="secondary" disabled={exporting} onClick={() => save('jsonl')}>
        Export view as JSON lines
      </button>
    </div>
  );
}

function FilterForm(props: { onApply: (filters: Filters) => void }) {
  const [draft, setDraft] = useState(NO_FILTERS);
  const set = (k: keyof Filters) => (value: string) => setDraft({ ...draft, [k]: value });
  const on = (k: keyof Filters) => (e: Event) => set(k)((e.currentTarget as HTMLInputElement).value);
  return (
    <form
      class="filters"
      aria-label="Filter events"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply(draft);
      }}
    >
      <InputField label="Actor" placeholder="email or id" value={draft.actor} onValue={set('actor')} />
      <InputField label="Action" placeholder="e.g. record.reveal" value={draft.action} onValue={set('action')} />
      <InputField label="Target" value={draft.target} onValue={set('target')} />
      <Field label="Outcome">
        {(id) => (
          <select id={id} value={draft.outcome} onChange={on('outcome')}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </select>
        )}
      </Field>
      <DateField label="From" value={draft.from} onValue={set('from')} />
      <DateField label="To" value={draft.to} onValue={set('to')} />
      <div class="filter-actions">
        <button type="submit" class="primary">
          Apply filters
        </button>
      </div>
    </form>
  );
}

type Cursor = { before?: number; after?: number };

/** A pager button: disabled where there is no such page (`to` null). */
function Step(props: { label: string; to: Cursor | null; onCursor: (cursor: Cursor) => void }) {
  const { to } = props;
  return (
    <button type="button" class="secondary" disabled={to === null} onClick={() => to && props.onCursor(to)}>
      {props.label}
    </button>
  );
}

function AuditPager(props: { page: Page | null; onCursor: (cursor: Cursor) => void }) {
  const newer = props.page?.newer ?? null;
  const older = props.page?.older ?? null;
  return (
    <nav class="pager" aria-label="Pages of events">
      <Step label="⇤ Newest" to={newer === null ? null : {}} onCursor={props.onCursor} />
      <Step label="← Newer" to={newer === null ? null : { after: newer }} onCursor={props.onCursor} />
      <Step label="Older →" to={older === null ? null : { before: older }} onCursor={props.onCursor} />
    </nav>
  );
}

export function AuditPage() {
  const [filters, setFilters] = useState(NO_FILTERS);
  const [cursor, setCursor] = useState<Cursor>({});
  const [page, setPage] = useState<Page | null>(null);
  const { error, setError, run } = useAction();
  const [verdict, setVerdict] = useState<Verdict | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    api<Page>('GET', `/api/audit/events${filterQuery(filters, { ...cursor, limit: PAGE })}`).then(
      (p) => live && setPage(p),
      (err) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  return (
    <section>
      <PageHead title="Audit log">
        Every sign-in, reveal, export and change, newest first. Each event is chained to the one before by its hash, so
        an edited or deleted row breaks the chain.
      </PageHead>
      <Toolbar filters={filters} run={run} onVerdict={setVerdict} />
      {verdict ? <VerdictAlert verdict={verdict} /> : null}
      <FilterForm
        onApply={(draft) => {
          setFilters(draft);
          setCursor({});
        }}
      />
      {error ? <Alert>{error}</Alert> : null}
      {page ? <EventTable events={page.items} caption="Audit events, newest first" /> : null}
      {page && page.items.length === 0 ? <p class="empty">No events match these filters.</p> : null}
      <AuditPager page={page} onCursor={setCursor} />
    </section>
  );
}
