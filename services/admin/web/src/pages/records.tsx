/** Records: metadata with server-side paging and filters, and the reveal dialog. */
import { useEffect, useState } from 'preact/hooks';
import { api, clientHint, query, type RecordRow, type Settings, type User } from '../api.ts';
import { dayEnd, dayStart, shortId, TYPE_NAMES, when } from '../format.ts';
import { Alert, errorText, Field, PageHead, ScrollArea } from '../ui.tsx';
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

export function RecordsPage(props: { user: User; settings: Settings }) {
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  // Cursors of the pages seen so far: going back pops one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: RecordRow[]; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [revealing, setRevealing] = useState<RecordRow | null>(null);
  const canReveal = props.user.role !== 'auditor';
  const before = cursors.at(-1) ?? null;

  useEffect(() => {
    let live = true;
    setError(null);
    api<{ items: RecordRow[]; next: string | null }>(
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

  const filter = (set: (v: string) => void) => (e: Event) => {
    set((e.currentTarget as HTMLInputElement).value);
    setCursors([null]);
  };

  return (
    <section aria-labelledby="records-title">
      <PageHead title="Records">
        Metadata only: values stay sealed until someone with a key reveals one, with a reason that goes in the audit
        log.
      </PageHead>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter records">
        <Field label="Type">
          {(id) => (
            <select id={id} value={type} onChange={filter(setType)}>
              <option value="">All types</option>
              <option value="pan">Card number</option>
              <option value="ssn">SSN</option>
              <option value="secret">Secret</option>
            </select>
          )}
        </Field>
        <Field label="Submitted from">
          {(id) => <input id={id} type="date" value={from} onChange={filter(setFrom)} />}
        </Field>
        <Field label="Submitted to">{(id) => <input id={id} type="date" value={to} onChange={filter(setTo)} />}</Field>
      </form>
      {error ? <Alert>{error}</Alert> : null}
      <ScrollArea label="Records">
        <table>
          <caption class="sr-only">Records, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Submitted</th>
              <th scope="col">Type</th>
              <th scope="col">Last 4</th>
              <th scope="col">Record id</th>
              {canReveal ? (
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {page?.items.map((r) => (
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
                {canReveal ? (
                  <td class="right">
                    <button
                      type="button"
                      class="secondary small"
                      aria-label={`Reveal ${TYPE_NAMES[r.type]} ${r.hint ? `ending ${r.hint}${clientHint(r) ? ' (client-supplied)' : ''}` : r.id}`}
                      onClick={() => setRevealing(r)}
                    >
                      Reveal…
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length === 0 ? <p class="empty">No records match these filters.</p> : null}
      </ScrollArea>
      <nav class="pager" aria-label="Pages of records">
        <button
          type="button"
          class="secondary"
          disabled={cursors.length < 2}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          ← Newer
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          class="secondary"
          disabled={!page?.next}
          onClick={() => page?.next && setCursors([...cursors, page.next])}
        >
          Older →
        </button>
      </nav>
      {revealing ? (
        <RevealDialog record={revealing} seconds={props.settings.revealSeconds} onClose={() => setRevealing(null)} />
      ) : null}
    </section>
  );
}
