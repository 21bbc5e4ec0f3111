/** Hooks shared by the pages: one action's busy and error state, and a list loaded from the API. */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { errorText } from './ui.tsx';

export interface RunOptions {
  /** Which row the action is for (read back as `pending`), where a page runs one per row. */
  key?: string;
  /** The sentence for a failure (default `errorText`); null shows none. */
  fail?: (err: unknown) => string | null;
}

/**
 * An action's state: `run` clears the last error, marks the action busy until `work` settles, and
 * turns a failure into the sentence the person reads.
 */
export function useAction() {
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (work: () => Promise<void>, options: RunOptions = {}): Promise<void> => {
    setPending(options.key ?? '');
    setError(null);
    try {
      await work();
    } catch (err) {
      setError((options.fail ?? errorText)(err));
    } finally {
      setPending(null);
    }
  };
  return { busy: pending !== null, pending, error, setError, run };
}

/** `GET path` → `{ items }`, loaded once on mount; `load` fetches it again after a change. */
export function useList<T>(path: string, onError: (text: string) => void) {
  const [items, setItems] = useState<T[] | null>(null);
  const load = () =>
    api<{ items: T[] }>('GET', path).then(
      (r) => setItems(r.items),
      (err) => onError(errorText(err)),
    );
  useEffect(() => {
    void load();
  }, []);
  return { items, load };
}
