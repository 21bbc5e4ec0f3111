/**
 * Decoys (issue 16, item 3), key-admins only: plant records whose values look real. Nothing in the
 * console shows which records are decoys, here or anywhere: revealing or exporting one alerts the
 * security team (audit event, metric, bus alert) while the person sees an ordinary record.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { CountField, TypeSelect } from '../fields.tsx';
import { useAction } from '../hooks.ts';
import { Busy, Outcome, PageHead } from '../ui.tsx';

export function DecoysPage() {
  const [type, setType] = useState('pan');
  const [count, setCount] = useState('3');
  const { busy, error, run } = useAction();
  const [done, setDone] = useState<string | null>(null);

  const plant = (e: Event) => {
    e.preventDefault();
    setDone(null);
    return run(async () => {
      const r = await api<{ planted: number }>('POST', '/api/decoys', { type, count: Number(count) });
      setDone(`Planted ${r.planted} decoy record${r.planted === 1 ? '' : 's'}. They are not listed anywhere.`);
    });
  };

  return (
    <section>
      <PageHead title="Decoys">
        Decoy records look and behave like real ones. Anyone who reveals or exports one raises an alert; they are never
        told.
      </PageHead>
      <form class="card" onSubmit={plant}>
        <h2>Plant decoys</h2>
        <TypeSelect value={type} onValue={setType} plural />
        <CountField
          hint="Dated at random over the last 30 days, within the current data key."
          max={100}
          value={count}
          onValue={setCount}
        />
        <Outcome error={error} notice={done} />
        <Busy type="submit" class="primary" busy={busy} label="Plant decoys" busyLabel="Planting…" />
      </form>
    </section>
  );
}
