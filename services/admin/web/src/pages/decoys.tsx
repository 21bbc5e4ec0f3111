/**
 * Decoys (issue 16, item 3), key-admins only: plant records whose values look real. Nothing in the
 * console shows which records are decoys, here or anywhere: revealing or exporting one alerts the
 * security team (audit event, metric, bus alert) while the person sees an ordinary record.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Alert, Busy, errorText, Field, PageHead } from '../ui.tsx';

export function DecoysPage() {
  const [type, setType] = useState('pan');
  const [count, setCount] = useState('3');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const plant = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = await api<{ planted: number }>('POST', '/api/decoys', { type, count: Number(count) });
      setDone(`Planted ${r.planted} decoy record${r.planted === 1 ? '' : 's'}. They are not listed anywhere.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageHead title="Decoys">
        Decoy records look and behave like real ones. Anyone who reveals or exports one raises an alert; they are never
        told.
      </PageHead>
      <form class="card" onSubmit={plant}>
        <h2>Plant decoys</h2>
        <Field label="Type">
          {(id) => (
            <select id={id} value={type} onChange={(e) => setType(e.currentTarget.value)}>
              <option value="pan">Card numbers</option>
              <option value="ssn">SSNs</option>
              <option value="secret">Secrets</option>
            </select>
          )}
        </Field>
        <Field label="How many" hint="Dated at random over the last 30 days, within the current data key.">
          {(id, hint) => (
            <input
              id={id}
              type="number"
              min={1}
              max={100}
              required
              aria-describedby={hint}
              value={count}
              onInput={(e) => setCount(e.currentTarget.value)}
            />
          )}
        </Field>
        {error ? <Alert>{error}</Alert> : null}
        {done ? <Alert kind="ok">{done}</Alert> : null}
        <Busy type="submit" class="primary" busy={busy} label="Plant decoys" busyLabel="Planting…" />
      </form>
    </section>
  );
}
