/**
 * The audit log: newest first, paging both ways, filters, actors by email (id on hover), the hash
 * chain's verification, and the filtered view exported as CSV or JSON lines.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { dayEnd, dayStart, download, when } from '../format.ts';
import { Alert, Busy, errorText, Field, PageHead, ScrollArea } from '../ui.tsx';

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

export function EventTable(props: { events: AuditEvent[]; caption: string }) {
  return (
    <ScrollArea label={props.caption}>
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Reason</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </ScrollArea>
  );
}

const PAGE = 50;

export function AuditPage() {
  const [draft, setDraft] = useState({ actor: '', action: '', target: '', outcome: '', from: '', to: '' });
  const [filters, setFilters] = useState(draft);
  const [cursor, setCursor] = useState<{ before?: number; after?: number }>({});
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [exporting, setExporting] = useState(false);

  const params = (extra: Record<string, number | undefined>) =>
    query({
      actor: filters.actor.trim(),
      action: filters.action.trim(),
      target: filters.target.trim(),
      outcome: filters.outcome,
      from: dayStart(filters.from),
      to: dayEnd(filters.to),
      ...extra,
    });

  useEffect(() => {
    let live = true;
    setError(null);
    api<Page>('GET', `/api/audit/events${params({ ...cursor, limit: PAGE })}`).then(
      (p) => live && setPage(p),
      (err) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  const verify = async () => {
    setVerifying(true);
    try {
      setVerdict(await api<Verdict>('GET', '/api/audit/verify'));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setVerifying(false);
    }
  };

  const exportView = async (format: 'csv' | 'jsonl') => {
    setExporting(true);
    try {
      const all: AuditEvent[] = [];
      let before: number | undefined;
      for (;;) {
        const p = await api<Page>('GET', `/api/audit/events${params({ before, limit: 500 })}`);
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
        const cell = (v: unknown) => {
          const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
          const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
          return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
        };
        const cols = [
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
        const lines = [`${cols.join(',')}\r\n`, ...all.map((e) => `${cols.map((c) => cell(e[c])).join(',')}\r\n`)];
        download(`coffer-audit-${stamp}.csv`, 'text/csv', lines);
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setExporting(false);
    }
  };

  const set = (k: keyof typeof draft) => (e: Event) =>
    setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <section>
      <PageHead title="Audit log">
        Every sign-in, reveal, export and change, newest first. Each event is chained to the one before by its hash, so
        an edited or deleted row breaks the chain.
      </PageHead>
      <div class="toolbar">
        <Busy
          type="button"
          class="secondary"
          busy={verifying}
          label="Verify the chain"
          busyLabel="Verifying…"
          onClick={verify}
        />
        <button type="button" class="secondary" disabled={exporting} onClick={() => exportView('csv')}>
          Export view as CSV
        </button>
        <button type="button" class="secondary" disabled={exporting} onClick={() => exportView('jsonl')}>
          Export view as JSON lines
        </button>
      </div>
      {verdict ? (
        verdict.ok ? (
          <Alert kind="ok">
            Chain verified: all {verdict.events.toLocaleString()} events link up. Head hash{' '}
            <span class="mono">{verdict.head.slice(0, 16)}…</span>
          </Alert>
        ) : (
          <Alert>
            The chain is broken at event #{verdict.brokenAt} ({verdict.events.toLocaleString()} events verified before
            it). Treat the log from there on as tampered with, and follow the incident procedure.
          </Alert>
        )
      ) : null}
      <form
        class="filters"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setCursor({});
        }}
      >
        <Field label="Actor">
          {(id) => <input id={id} placeholder="email or id" value={draft.actor} onInput={set('actor')} />}
        </Field>
        <Field label="Action">
          {(id) => <input id={id} placeholder="e.g. record.reveal" value={draft.action} onInput={set('action')} />}
        </Field>
        <Field label="Target">{(id) => <input id={id} value={draft.target} onInput={set('target')} />}</Field>
        <Field label="Outcome">
          {(id) => (
            <select id={id} value={draft.outcome} onChange={set('outcome')}>
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="failure">Failure</option>
              <option value="denied">Denied</option>
            </select>
          )}
        </Field>
        <Field label="From">{(id) => <input id={id} type="date" value={draft.from} onChange={set('from')} />}</Field>
        <Field label="To">{(id) => <input id={id} type="date" value={draft.to} onChange={set('to')} />}</Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
        </div>
      </form>
      {error ? <Alert>{error}</Alert> : null}
      {page ? <EventTable events={page.items} caption="Audit events, newest first" /> : null}
      {page && page.items.length === 0 ? <p class="empty">No events match these filters.</p> : null}
      <nav class="pager" aria-label="Pages of events">
        <button type="button" class="secondary" disabled={page?.newer == null} onClick={() => setCursor({})}>
          ⇤ Newest
        </button>
        <button
          type="button"
          class="secondary"
          disabled={page?.newer == null}
          onClick={() => page?.newer != null && setCursor({ after: page.newer })}
        >
          ← Newer
        </button>
        <button
          type="button"
          class="secondary"
          disabled={page?.older == null}
          onClick={() => page?.older != null && setCursor({ before: page.older })}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}
