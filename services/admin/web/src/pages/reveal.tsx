/**
 * The reveal dialog: the reason first (required, audited), then the value masked until asked,
 * with copy; the value leaves the page — its DOM node and every reference this code holds — when
 * the countdown ends or the dialog closes. (A JavaScript string cannot be zeroed; dropping every
 * reference lets it be collected, and it was never put anywhere else.)
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, clientHint, type RecordRow } from '../api.ts';
import { ReasonField } from '../fields.tsx';
import { duration, TYPE_NAMES } from '../format.ts';
import { useAction } from '../hooks.ts';
import { Alert, Busy, CancelOr, CopyButton, Dialog, Outcome } from '../ui.tsx';

const A_VALID: Record<string, string> = { pan: 'a valid card number', ssn: 'a valid SSN', secret: 'a valid secret' };

function masked(value: string): string {
  const tail = value.length > 8 ? value.slice(-4) : '';
  return `${'•'.repeat(Math.min(12, Math.max(4, value.length - tail.length)))}${tail}`;
}

/**
 * The revealed value and its countdown. The value lives in a ref and in no state snapshot that
 * could outlive the dialog; `forget` drops it, as the countdown's end and unmounting do.
 */
function useRevealedValue() {
  const value = useRef<string | null>(null);
  const [shown, setShown] = useState(false);
  const [left, setLeft] = useState<number | null>(null);
  const [gone, setGone] = useState(false);
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
  const hold = (revealed: string, seconds: number) => {
    value.current = revealed;
    setGone(false);
    setLeft(seconds);
  };
  return { current: value.current, shown, setShown, left, gone, forget, hold };
}

function ReasonForm(props: {
  reason: string;
  setReason: (reason: string) => void;
  busy: boolean;
  error: string | null;
  onReveal: (e: Event) => void;
  onCancel: () => void;
}) {
  return (
    <form onSubmit={props.onReveal}>
      <ReasonField
        label="Reason for revealing"
        hint="Required. Recorded in the audit log with your name, e.g. “ticket 4711: refund”."
        value={props.reason}
        onValue={props.setReason}
      />
      <Outcome error={props.error} />
      <CancelOr onCancel={props.onCancel}>
        <Busy type="submit" class="primary" busy={props.busy} label="Reveal" busyLabel="Revealing…" />
      </CancelOr>
    </form>
  );
}

/** The value fails its type's rules: possible for a value its submitter sealed (ingest never saw it). */
function NotValidWarning(props: { record: RecordRow }) {
  return (
    <Alert kind="warn" urgent>
      This value is not {A_VALID[props.record.type] ?? 'valid for its type'}.{' '}
      {props.record.hintSource === 'client'
        ? 'Its submitter sealed it, so nothing checked it on the way in: treat it with care.'
        : 'Ingest checks the values it seals, so this is unexpected: treat it with care and tell whoever runs Coffer.'}
    </Alert>
  );
}

function RevealedValue(props: {
  value: string;
  reason: string;
  shown: boolean;
  setShown: (shown: boolean) => void;
  left: number | null;
  warning: ComponentChildren;
  onDone: () => void;
}) {
  const { value, shown } = props;
  return (
    <div>
      <p class="hint">Reason recorded: “{props.reason}”</p>
      {props.warning}
      <output class="secret-value mono" aria-label="Revealed value" data-state={shown ? 'shown' : 'masked'}>
        {shown ? value : masked(value)}
      </output>
      <p class="hint" role="timer" aria-live="off">
        Removed from this page in {duration(props.left ?? 0)}.
      </p>
      <div class="actions">
        <button type="button" class="secondary" aria-pressed={shown} onClick={() => props.setShown(!shown)}>
          {shown ? 'Hide value' : 'Show value'}
        </button>
        <CopyButton text={value} label="Copy" />
        <button type="button" class="primary" onClick={props.onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

function GoneNote(props: { onClose: () => void }) {
  return (
    <div>
      <Alert kind="info">
        The value was removed from the page. Reveal again if you still need it (that is audited too).
      </Alert>
      <div class="actions">
        <button type="button" class="primary" onClick={props.onClose}>
          OK
        </button>
      </div>
    </div>
  );
}

export function RevealDialog(props: { record: RecordRow; seconds: number; onClose: () => void }) {
  const { record } = props;
  const [reason, setReason] = useState('');
  const { busy, error, run } = useAction();
  const value = useRevealedValue();
  // False when the revealed value fails its type's rules, the first point at which anyone can check.
  const [matchesType, setMatchesType] = useState(true);

  const reveal = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const res = await api<{ value: string; matchesType?: boolean }>('POST', `/api/records/${record.id}/reveal`, {
        reason,
      });
      setMatchesType(res.matchesType !== false);
      value.hold(res.value, props.seconds);
    });
  };
  const close = () => {
    value.forget();
    props.onClose();
  };
  const what = `${TYPE_NAMES[record.type]}${record.hint ? ` ending ${record.hint}` : ''}`;

  return (
    <Dialog title={`Reveal ${what}`} onClose={close}>
      <p class="mono small-print">Record {record.id}</p>
      {clientHint(record) ? (
        <p class="hint">The last 4 were given by the submitter, who sealed the value: nobody checked them.</p>
      ) : null}
      {value.current === null && !value.gone ? (
        <ReasonForm
          reason={reason}
          setReason={setReason}
          busy={busy}
          error={error}
          onReveal={reveal}
          onCancel={close}
        />
      ) : null}
      {value.current !== null ? (
        <RevealedValue
          value={value.current}
          reason={reason}
          shown={value.shown}
          setShown={value.setShown}
          left={value.left}
          warning={matchesType ? null : <NotValidWarning record={record} />}
          onDone={close}
        />
      ) : null}
      {value.gone ? <GoneNote onClose={close} /> : null}
    </Dialog>
  );
}
