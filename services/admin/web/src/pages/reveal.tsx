/**
 * The reveal dialog: the reason first (required, audited), then the value masked until asked,
 * with copy; the value leaves the page — its DOM node and every reference this code holds — when
 * the countdown ends or the dialog closes. (A JavaScript string cannot be zeroed; dropping every
 * reference lets it be collected, and it was never put anywhere else.)
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, clientHint, type RecordRow } from '../api.ts';
import { duration, TYPE_NAMES } from '../format.ts';
import { Alert, Busy, Dialog, errorText, Field } from '../ui.tsx';

const A_VALID: Record<string, string> = { pan: 'a valid card number', ssn: 'a valid SSN', secret: 'a valid secret' };

function masked(value: string): string {
  const tail = value.length > 8 ? value.slice(-4) : '';
  return `${'•'.repeat(Math.min(12, Math.max(4, value.length - tail.length)))}${tail}`;
}

export function RevealDialog(props: { record: RecordRow; seconds: number; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The value lives in a ref and in no state snapshot that could outlive the dialog.
  const value = useRef<string | null>(null);
  const [shown, setShown] = useState(false);
  const [left, setLeft] = useState<number | null>(null);
  const [gone, setGone] = useState(false);
  const [copied, setCopied] = useState(false);
  // False when the revealed value fails its type's rules: possible for a value its submitter
  // sealed (ingest never saw it), the first point at which anyone can check.
  const [matchesType, setMatchesType] = useState(true);

  const forget = () => {
    value.current = null;
    setShown(false);
    setLeft(null);
  };

  useEffect(() => {
    if (left === null) return;
    if (left <= 0) {
      forget();
      setGone(true);
      return;
    }
    const t = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(t);
  }, [left]);
  useEffect(() => forget, []);

  const reveal = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ value: string; matchesType?: boolean }>(
        'POST',
        `/api/records/${props.record.id}/reveal`,
        { reason },
      );
      value.current = res.value;
      setMatchesType(res.matchesType !== false);
      setGone(false);
      setLeft(props.seconds);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const close = () => {
    forget();
    props.onClose();
  };
  const what = `${TYPE_NAMES[props.record.type]}${props.record.hint ? ` ending ${props.record.hint}` : ''}`;
  const current = value.current;

  return (
    <Dialog title={`Reveal ${what}`} onClose={close}>
      <p class="mono small-print">Record {props.record.id}</p>
      {clientHint(props.record) ? (
        <p class="hint">The last 4 were given by the submitter, who sealed the value: nobody checked them.</p>
      ) : null}
      {current === null && !gone ? (
        <form onSubmit={reveal}>
          <Field
            label="Reason for revealing"
            hint="Required. Recorded in the audit log with your name, e.g. “ticket 4711: refund”."
          >
            {(id, hint) => (
              <input
                id={id}
                required
                minLength={3}
                maxLength={500}
                aria-describedby={hint}
                value={reason}
                onInput={(e) => setReason(e.currentTarget.value)}
              />
            )}
          </Field>
          {error ? <Alert>{error}</Alert> : null}
          <div class="actions">
            <button type="button" class="secondary" onClick={close}>
              Cancel
            </button>
            <Busy type="submit" class="primary" busy={busy} label="Reveal" busyLabel="Revealing…" />
          </div>
        </form>
      ) : null}
      {current !== null ? (
        <div>
          <p class="hint">Reason recorded: “{reason}”</p>
          {matchesType ? null : (
            <Alert kind="warn" urgent>
              This value is not {A_VALID[props.record.type] ?? 'valid for its type'}.{' '}
              {props.record.hintSource === 'client'
                ? 'Its submitter sealed it, so nothing checked it on the way in: treat it with care.'
                : 'Ingest checks the values it seals, so this is unexpected: treat it with care and tell whoever runs Coffer.'}
            </Alert>
          )}
          <output class="secret-value mono" aria-label="Revealed value" data-state={shown ? 'shown' : 'masked'}>
            {shown ? current : masked(current)}
          </output>
          <p class="hint" role="timer" aria-live="off">
            Removed from this page in {duration(left ?? 0)}.
          </p>
          <div class="actions">
            <button type="button" class="secondary" aria-pressed={shown} onClick={() => setShown(!shown)}>
              {shown ? 'Hide value' : 'Show value'}
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                void navigator.clipboard?.writeText(current).then(
                  () => setCopied(true),
                  () => setCopied(false),
                );
              }}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
            <button type="button" class="primary" onClick={close}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      {gone ? (
        <div>
          <Alert kind="info">
            The value was removed from the page. Reveal again if you still need it (that is audited too).
          </Alert>
          <div class="actions">
            <button type="button" class="primary" onClick={close}>
              OK
            </button>
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}
