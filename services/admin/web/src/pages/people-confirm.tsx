/**
 * Confirming a person: the key-admin types the fingerprint the invitee reads out, and sees it side
 * by side with the stored one before confirming (or, where two key-admins must compare, co-signing).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { InputField } from '../fields.tsx';
import { useAction } from '../hooks.ts';
import { Alert, Busy, CancelOr, Dialog, Outcome } from '../ui.tsx';
import type { Person } from './people-cards.tsx';

const ROLE_TEXT: Record<string, string> = {
  viewer: 'viewer (may reveal and export)',
  'key-admin': 'key-admin (manages people and keys, may reveal and export)',
  auditor: 'auditor (reads the audit log; holds no data key)',
};

/** Split `fp` into groups as long as the stored fingerprint's own (five digits each today). */
function groupsLike(fp: string, model: string[]): string[] {
  const flat = fp.replace(/\s+/g, '').toLowerCase();
  const out: string[] = [];
  let at = 0;
  for (const g of model) {
    if (at >= flat.length) break;
    out.push(flat.slice(at, at + g.length));
    at += g.length;
  }
  if (at < flat.length) out.push(flat.slice(at));
  return out;
}

function Compare(props: { mine: string[]; stored: string[]; matches: boolean }) {
  return (
    <section class="compare" aria-label="Fingerprints side by side">
      <div>
        <h3>Read out</h3>
        <p class="fp mono">
          {props.mine.map((g, i) => (
            <span key={i} class={g === props.stored[i] ? 'fp-ok' : 'fp-bad'}>
              {g}
            </span>
          ))}
        </p>
      </div>
      <div>
        <h3>Key stored for this user</h3>
        <p class="fp mono">
          {props.stored.map((g, i) => (
            <span key={i}>{g}</span>
          ))}
        </p>
      </div>
      {props.matches ? (
        <Alert kind="ok">The fingerprints match.</Alert>
      ) : (
        <Alert>The fingerprints differ. Do not confirm: the key on file may not be the invitee's.</Alert>
      )}
    </section>
  );
}

export function ConfirmDialog(props: { person: Person; onClose: () => void; onConfirmed: () => void }) {
  const { person } = props;
  const [typed, setTyped] = useState('');
  const { busy, error, run } = useAction();
  const stored = (person.fingerprint ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const mine = groupsLike(typed, stored);
  // The stored value is shown only once a full fingerprint was typed from what the invitee read out.
  const complete = mine.join('').length >= stored.join('').length && stored.length > 0;
  const matches = complete && mine.join('') === stored.join('');
  // issue 16 item 4b: where two key-admins must compare, the second co-signs instead of confirming.
  const [cosigned, setCosigned] = useState(false);
  const cosign = () =>
    run(async () => {
      await api('POST', `/api/users/${person.id}/cosign`, { fingerprint: typed });
      setCosigned(true);
    });
  const submit = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      await api('POST', `/api/users/${person.id}/confirm`, { fingerprint: typed });
      props.onConfirmed();
    });
  };
  return (
    <Dialog title={`Confirm ${person.email}`} onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <p>
          You are granting the role <strong>{ROLE_TEXT[person.role]}</strong>. Ask {person.email} to read out the
          fingerprint their acceptance page showed — by phone or in person, not by a channel an attacker could rewrite.
        </p>
        <InputField
          label="Fingerprint as read out by the invitee"
          class="mono"
          autocomplete="off"
          spellcheck={false}
          required
          value={typed}
          onValue={setTyped}
        />
        {complete ? <Compare mine={mine} stored={stored} matches={matches} /> : null}
        <Outcome
          error={error}
          notice={cosigned ? 'Co-signed. Another key-admin who compared the same fingerprint can now confirm.' : null}
        />
        <CancelOr onCancel={props.onClose}>
          {person.role === 'key-admin' ? (
            <Busy
              type="button"
              class="secondary"
              busy={busy}
              disabled={!matches || cosigned}
              label="Co-sign as second key-admin"
              busyLabel="Co-signing…"
              onClick={cosign}
            />
          ) : null}
          <Busy
            type="submit"
            class="primary"
            busy={busy}
            disabled={!matches}
            label={`Confirm as ${person.role}`}
            busyLabel="Confirming…"
          />
        </CancelOr>
      </form>
    </Dialog>
  );
}
