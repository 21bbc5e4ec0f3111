/**
 * Keys (key-admins): data key windows on a timeline, the current and next key, records and
 * wrapped copies per key, the horizon (how far ahead keys exist) and the degraded state, and
 * pre-generation of more keys.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { shortId, when } from '../format.ts';
import { Alert, Busy, errorText, Field, PageHead, ScrollArea } from '../ui.tsx';

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

export function KeysPage() {
  const [keys, setKeys] = useState<DataKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [count, setCount] = useState('1');
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<string | null>(null);

  const load = () =>
    api<{ items: DataKey[] }>('GET', '/api/keys').then(
      (r) => setKeys(r.items),
      (err) => setError(errorText(err)),
    );
  useEffect(() => {
    void load();
  }, []);

  const now = Date.now();
  const current = keys?.find((k) => k.current) ?? null;
  const next = keys?.find((k) => Date.parse(k.notBefore) > now) ?? null;
  const last = keys?.reduce((m, k) => Math.max(m, Date.parse(k.notAfter)), 0) ?? 0;
  const horizonDays = Math.max(0, Math.floor((last - now) / DAY));
  const start = keys?.length ? Math.min(...keys.map((k) => Date.parse(k.notBefore)), now) : now;
  const end = Math.max(last, now + DAY);
  const pct = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(2)}%`;

  const pregenerate = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setMade(null);
    try {
      const r = await api<{ items: DataKey[]; skippedRecipients: number }>('POST', '/api/keys/pregenerate', {
        count: Number(count),
      });
      setMade(
        `Made ${r.items.length} data key${r.items.length === 1 ? '' : 's'}, each wrapped to every confirmed viewer and key-admin and to the recovery key.` +
          (r.skippedRecipients ? ` ${r.skippedRecipients} recipient(s) without a valid certificate were skipped.` : ''),
      );
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHead title="Keys">
        Each data key seals the records submitted in its window. Ingest needs a key for now; keys made ahead keep it
        running.
      </PageHead>
      {error ? <Alert>{error}</Alert> : null}
      {keys ? (
        <div class="stats">
          <div class="stat">
            <span class="stat-label">Status</span>
            {current ? (
              <span class="stat-value ok">Healthy</span>
            ) : (
              <span class="stat-value bad">Degraded: no key covers now</span>
            )}
          </div>
          <div class="stat">
            <span class="stat-label">Horizon</span>
            <span class={`stat-value ${horizonDays < HORIZON_WARN_DAYS ? 'warn' : ''}`}>{horizonDays} days ahead</span>
          </div>
          <div class="stat">
            <span class="stat-label">Current key</span>
            <span class="stat-value mono">{current ? shortId(current.id) : '—'}</span>
          </div>
          <div class="stat">
            <span class="stat-label">Next key</span>
            <span class="stat-value mono">{next ? shortId(next.id) : 'none yet'}</span>
          </div>
        </div>
      ) : null}
      {keys && !current ? (
        <Alert>Ingest refuses submissions while no data key covers now. Pre-generate keys below.</Alert>
      ) : keys && horizonDays < HORIZON_WARN_DAYS ? (
        <Alert kind="warn">Fewer than {HORIZON_WARN_DAYS} days of keys are left. Pre-generate the next ones.</Alert>
      ) : null}
      {keys?.length ? (
        <figure class="card timeline" aria-label="Data key windows on a timeline">
          <div class="tl-track">
            {keys.map((k) => (
              <div
                key={k.id}
                class={`tl-bar ${k.current ? 'is-current' : Date.parse(k.notAfter) <= now ? 'is-past' : 'is-future'}`}
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
                if (el) el.style.left = pct(now);
              }}
            >
              <span class="tl-now-label">now</span>
            </div>
          </div>
          <figcaption class="hint">
            {when(new Date(start).toISOString())} → {when(new Date(end).toISOString())}
          </figcaption>
        </figure>
      ) : null}
      <ScrollArea label="Data keys">
        <table>
          <caption class="sr-only">Data keys</caption>
          <thead>
            <tr>
              <th scope="col">Key id</th>
              <th scope="col">Valid from</th>
              <th scope="col">Valid until</th>
              <th scope="col">State</th>
              <th scope="col" class="right">
                Records
              </th>
              <th scope="col" class="right">
                Wrapped copies
              </th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((k) => (
              <tr key={k.id}>
                <td class="mono" title={k.id}>
                  {shortId(k.id)}
                </td>
                <td class="nowrap">{when(k.notBefore)}</td>
                <td class="nowrap">{when(k.notAfter)}</td>
                <td>
                  {k.current ? (
                    <span class="badge status-active">current</span>
                  ) : Date.parse(k.notAfter) <= now ? (
                    <span class="badge status-revoked">ended</span>
                  ) : (
                    <span class="badge status-invited">{k === next ? 'next' : 'future'}</span>
                  )}
                </td>
                <td class="right">{k.records.toLocaleString()}</td>
                <td class="right">{k.wrappedCopies}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollArea>
      <form class="card inline-form" onSubmit={pregenerate} aria-labelledby="pregen-title">
        <h2 id="pregen-title">Pre-generate data keys</h2>
        <Field label="How many" hint="Each covers the next window after the last key. 1–16.">
          {(id, hint) => (
            <input
              id={id}
              type="number"
              min={1}
              max={16}
              required
              aria-describedby={hint}
              value={count}
              onInput={(e) => setCount(e.currentTarget.value)}
            />
          )}
        </Field>
        <Busy type="submit" class="primary" busy={busy} label="Make keys" busyLabel="Making keys…" />
      </form>
      {made ? <Alert kind="ok">{made}</Alert> : null}
    </section>
  );
}
