/** Records: metadata with server-side paging and filters, and the reveal dialog. */
import { useEffect, useState } from 'preact/hooks';
import { api, clientHint, query, type RecordRow, type Settings, type User } from '../api.ts';
import { DataTable, DateField, TypeSelect } from '../fields.tsx';
import { dayEnd, dayStart, shortId, TYPE_NAMES, when } from '../format.ts';
import { Alert, errorText, PageHead } from '../ui.tsx';
import { RevealDialog } from './reveal.tsx';

const PAGE = 25;

/** The last 4 as shown, marked visibly (and so for a screen reader) when the submitter supplied them. */
export function Hint(props: { record: RecordRow }) {
  const r = props.record;
  if (!r.hint) return <>—</>;
  return (
    <>
      …{r.hint}
      {clientHint(r) ? (
        <>
          {' '}
          <span
            class="badge hint-client"
            title="The submitter sealed this value and gave these digits; nobody checked them"
          >
            client-supplied
          </span>
        </>
      ) : null}
    </>
  );
}

const COLUMNS = ['Submitted', 'Type', 'Last 4', 'Record id'];

function RecordsTable(props: { items: RecordRow[] | null; canReveal: boolean; onReveal: (r: RecordRow) => void }) {
  return (
    <DataTable
      label="Records"
      caption="Records, newest first"
      columns={COLUMNS}
      actions={props.canReveal}
      after={props.items?.length === 0 ? <p class="empty">No records match these filters.</p> : null}
    >
      {props.items?.map((r) => (
        <tr key={r.id}>
          <td class="nowrap">{when(r.submittedAt)}</td>
          <td>
            <span class={`badge type-${r.type}`}>{TYPE_NAMES[r.type] ?? r.type}</span>
          </td>
          <td class="mono">
            <Hint record={r} />
          </td>
          <td class="mono" title={r.id}>
            <span class="id-full">{r.id}</span>
            <span class="id-short" aria-hidden="true">
              {shortId(r.id)}
            </span>
          </td>
          {props.canReveal ? (
            <td class="right">
              <button
                type="button"
                class="secondary small"
                aria-label={`Reveal ${TYPE_NAMES[r.type]} ${r.hint ? `ending ${r.hint}${clientHint(r) ? ' (client-supplied)' : ''}` : r.id}`}
                onClick={() => props.onReveal(r)}
              >
                Reveal…
              </button>
            </td>
          ) : null}
        </tr>
      ))}
    </DataTable>
  );
}

/** Newer and older pages: `cursors` are the pages seen so far, and going back pops one. */
function Pager(props: { cursors: (string | null)[]; next: string | null; onCursors: (c: (string | null)[]) => void }) {
  const { cursors, next } = props;
  return (
    <nav class="pager" aria-label="Pages of records">
      <button
        type="button"
        class="secondary"
        disabled={cursors.length < 2}
        onClick={() => props.onCursors(cursors.slice(0, -1))}
      >
        ← Newer
      </button>
      <span>Page {cursors.length}</span>
      <button
        type="button"
        class="secondary"
        disabled={!next}
        onClick={() => next && props.onCursors([...cursors, next])}
      >
        Older →
      </button>
    </nav>
  );
}

type Page = { items: RecordRow[]; next: string | null };

/** The page of records under these filters, before this cursor (fetched again when they change). */
function useRecords(filters: { type: string; from: string; to: string }, before: string | null) {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { type, from, to } = filters;
  useEffect(() => {
    let live = true;
    setError(null);
    api<Page>(
      'GET',
      `/api/records/search${query({ type, from: dayStart(from), to: dayEnd(to), before, limit: PAGE })}`,
    ).then(
      (p) => live && setPage(p),
      (err) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [type, from, to, before]);
  return { page, error };
}

export function RecordsPage(props: { user: User; settings: Settings }) {
  const [filters, setFilters] = useState({ type: '', from: '', to: '' });
  // Cursors of the pages seen so far: going back pops one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [revealing, setRevealing] = useState<RecordRow | null>(null);
  const { page, error } = useRecords(filters, cursors.at(-1) ?? null);
  const filter = (key: keyof typeof filters) => (value: string) => {
    setFilters({ ...filters, [key]: value });
    setCursors([null]);
  };

  return (
    <section aria-labelledby="records-title">
      <PageHead title="Records">
        Metadata only: values stay sealed until someone with a key reveals one, with a reason that goes in the audit
        log.
      </PageHead>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter records">
        <TypeSelect value={filters.type} onValue={filter('type')} all />
        <DateField label="Submitted from" value={filters.from} onValue={filter('from')} />
        <DateField label="Submitted to" value={filters.to} onValue={filter('to')} />
      </form>
      {error ? <Alert>{error}</Alert> : null}
      <RecordsTable items={page?.items ?? null} canReveal={props.user.role !== 'auditor'} onReveal={setRevealing} />
      <Pager cursors={cursors} next={page?.next ?? null} onCursors={setCursors} />
      {revealing ? (
        <RevealDialog record={revealing} seconds={props.settings.revealSeconds} onClose={() => setRevealing(null)} />
      ) : null}
    </section>
  );
}
