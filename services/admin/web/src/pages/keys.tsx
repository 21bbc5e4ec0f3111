/**
 * Keys (key-admins): data key windows on a timeline, the current and next key, records and
 * wrapped copies per key, the horizon (how far ahead keys exist) and the degraded state, and
 * pre-generation of more keys.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { CountField, DataTable } from '../fields.tsx';
import { shortId, when } from '../format.ts';
import { useAction, useList } from '../hooks.ts';
import { Alert, Busy, PageHead } from '../ui.tsx';

interface DataKey {
  id: string;
  notBefore: string;
  notAfter: string;
  current: boolean;
  records: number;
  wrappedCopies: number;
}

const DAY = 86_400_000;
/** Below this many days of keys ahead, ingest is at risk of running out: the same warning as the vault's metric. */
const HORIZON_WARN_DAYS = 30;

/** Where the keys stand now: the current and next key, how far ahead keys exist, the timeline's span. */
function outlook(keys: DataKey[], now: number) {
  const current = keys.find((k) => k.current) ?? null;
  const next = keys.find((k) => Date.parse(k.notBefore) > now) ?? null;
  const last = keys.reduce((m, k) => Math.max(m, Date.parse(k.notAfter)), 0);
  const horizonDays = Math.max(0, Math.floor((last - now) / DAY));
  const start = keys.length ? Math.min(...keys.map((k) => Date.parse(k.notBefore)), now) : now;
  const end = Math.max(last, now + DAY);
  return { current, next, horizonDays, start, end };
}
type Outlook = ReturnType<typeof outlook>;

function Stat(props: { label: string; value: string; class: string }) {
  return (
    <div class="stat">
      <span class="stat-label">{props.label}</span>
      <span class={`stat-value ${props.class}`}>{props.value}</span>
    </div>
  );
}

function KeyStats(props: { at: Outlook }) {
  const { current, next, horizonDays } = props.at;
  return (
    <div class="stats">
      <Stat label="Status" class={current ? 'ok' : 'bad'} value={current ? 'Healthy' : 'Degraded: no key covers now'} />
      <Stat label="Horizon" class={horizonDays < HORIZON_WARN_DAYS ? 'warn' : ''} value={`${horizonDays} days ahead`} />
      <Stat label="Current key" class="mono" value={current ? shortId(current.id) : '—'} />
      <Stat label="Next key" class="mono" value={next ? shortId(next.id) : 'none yet'} />
    </div>
  );
}

function KeyTimeline(props: { keys: DataKey[]; at: Outlook; now: number }) {
  const { start, end } = props.at;
  const pct = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(2)}%`;
  return (
    <figure class="card timeline" aria-label="Data key windows on a timeline">
      <div class="tl-track">
        {props.keys.map((k) => (
          <div
            key={k.id}
            class={`tl-bar ${k.current ? 'is-current' : Date.parse(k.notAfter) <= props.now ? 'is-past' : 'is-future'}`}
            ref={(el) => {
              // Positions are set through the CSSOM: the CSP allows no inline style attributes.
              if (!el) return;
              el.style.left = pct(Date.parse(k.notBefore));
              el.style.width = `calc(${pct(Date.parse(k.notAfter))} - ${pct(Date.parse(k.notBefore))})`;
            }}
            title={`${k.id}: ${when(k.notBefore)} – ${when(k.notAfter)}`}
          >
            <span>{shortId(k.id)}</span>
          </div>
        ))}
        <div
          class="tl-now"
          ref={(el) => {
            if (el) el.style.left = pct(props.now);
          }}
        >
          <span class="tl-now-label">now</span>
        </div>
      </div>
      <figcaption class="hint">
        {when(new Date(start).toISOString())} → {when(new Date(end).toISOString())}
      </figcaption>
    </figure>
  );
}

const COLUMNS = [
  'Key id',
  'Valid from',
  'Valid until',
  'State',
  { label: 'Records', class: 'right' },
  { label: 'Wrapped copies', class: 'right' },
];

function KeysTable(props: { keys: DataKey[] | null; next: DataKey | null; now: number }) {
  return (
    <DataTable label="Data keys" columns={COLUMNS}>
      {props.keys?.map((k) => (
        <tr key={k.id}>
          <td class="mono" title={k.id}>
            {shortId(k.id)}
          </td>
          <td class="nowrap">{when(k.notBefore)}</td>
          <td class="nowrap">{when(k.notAfter)}</td>
          <td>
            {k.current ? (
              <span class="badge status-active">current</span>
            ) : Date.parse(k.notAfter) <= props.now ? (
              <span class="badge status-revoked">ended</span>
            ) : (
              <span class="badge status-invited">{k === props.next ? 'next' : 'future'}</span>
            )}
          </td>
          <td class="right">{k.records.toLocaleString()}</td>
          <td class="right">{k.wrappedCopies}</td>
        </tr>
      ))}
    </DataTable>
  );
}

type Action = ReturnType<typeof useAction>;

function PregenerateForm(props: { action: Action; onMade: () => Promise<void> }) {
  const [count, setCount] = useState('1');
  const [made, setMade] = useState<string | null>(null);
  const pregenerate = (e: Event) => {
    e.preventDefault();
    setMade(null);
    return props.action.run(async () => {
      const r = await api<{ items: DataKey[]; skippedRecipients: number }>('POST', '/api/keys/pregenerate', {
        count: Number(count),
      });
      setMade(
        `Made ${r.items.length} data key${r.items.length === 1 ? '' : 's'}, each wrapped to every confirmed viewer and key-admin and to the recovery key.` +
          (r.skippedRecipients ? ` ${r.skippedRecipients} recipient(s) without a valid certificate were skipped.` : ''),
      );
      await props.onMade();
    });
  };
  return (
    <>
      <form class="card inline-form" onSubmit={pregenerate} aria-labelledby="pregen-title">
        <h2 id="pregen-title">Pre-generate data keys</h2>
        <CountField
          hint="Each covers the next window after the last key. 1–16."
          max={16}
          value={count}
          onValue={setCount}
        />
        <Busy type="submit" class="primary" busy={props.action.busy} label="Make keys" busyLabel="Making keys…" />
      </form>
      {made ? <Alert kind="ok">{made}</Alert> : null}
    </>
  );
}

export function KeysPage() {
  // One error line for the page: a failed load or a failed pre-generation.
  const action = useAction();
  const { items: keys, load } = useList<DataKey>('/api/keys', action.setError);
  const now = Date.now();
  const at = outlook(keys ?? [], now);
  return (
    <section>
      <PageHead title="Keys">
        Each data key seals the records submitted in its window. Ingest needs a key for now; keys made ahead keep it
        running.
      </PageHead>
      {action.error ? <Alert>{action.error}</Alert> : null}
      {keys ? <KeyStats at={at} /> : null}
      {keys && !at.current ? (
        <Alert>Ingest refuses submissions while no data key covers now. Pre-generate keys below.</Alert>
      ) : keys && at.horizonDays < HORIZON_WARN_DAYS ? (
        <Alert kind="warn">Fewer than {HORIZON_WARN_DAYS} days of keys are left. Pre-generate the next ones.</Alert>
      ) : null}
      {keys?.length ? <KeyTimeline keys={keys} at={at} now={now} /> : null}
      <KeysTable keys={keys} next={at.next} now={now} />
      <PregenerateForm action={action} onMade={load} />
    </section>
  );
}
