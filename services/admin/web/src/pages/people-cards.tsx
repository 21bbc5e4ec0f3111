/** People's cards and dialogs: the one-time link, the enrolment code, the invite form, "are you sure". */
import { useState } from 'preact/hooks';
import type { User } from '../api.ts';
import { InputField } from '../fields.tsx';
import { duration, when } from '../format.ts';
import { useAction } from '../hooks.ts';
import { Busy, CancelOr, CopyButton, Dialog, Field, Outcome } from '../ui.tsx';

export interface Person {
  id: string;
  email: string;
  role: User['role'];
  status: 'invited' | 'unconfirmed' | 'active' | 'revoked';
  mfa: boolean;
  fingerprint: string | null;
  createdAt: string;
  confirmedAt: string | null;
  lastSigninAt: string | null;
  inviteExpiresAt: string | null;
}

export interface Link {
  email: string;
  url: string;
  expiresAt: string;
  what: string;
}

export interface EnrolCode {
  email: string;
  code: string;
  expiresAt: string;
}

export function inviteUrl(token: string): string {
  // The token travels in the fragment, which browsers never send to a server or in a Referer.
  return `${location.origin}/#/accept?token=${token}`;
}

export function LinkCard(props: { link: Link; onDone: () => void }) {
  const left = (Date.parse(props.link.expiresAt) - Date.now()) / 1000;
  return (
    <div class="card highlight" role="status">
      <h2>{props.link.what}</h2>
      <p>
        Pass this one-time link to <strong>{props.link.email}</strong> over a channel you trust. It works once and
        expires {when(props.link.expiresAt)} (in {duration(left)}). It is shown only now.
      </p>
      <div class="copy-row">
        <input
          class="mono"
          aria-label="One-time invite link"
          readOnly
          value={props.link.url}
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={props.link.url} label="Copy link" />
      </div>
      <button type="button" class="ghost" onClick={props.onDone}>
        Done
      </button>
    </div>
  );
}

/** issue 9 item 3: a confirmed person sets up their first authenticator only with this code. */
export function EnrolCodeCard(props: { code: EnrolCode; onDone: () => void }) {
  const { code } = props;
  return (
    <section class="card" aria-labelledby="enrol-code-title">
      <h2 id="enrol-code-title">Enrolment code for {code.email}</h2>
      <p>
        Give it to them yourself, by phone or in person: with it they set up an authenticator under “Me”. It works once,
        until {when(code.expiresAt)}, and is not shown again.
      </p>
      <output class="fp big mono" aria-label="Enrolment code">
        {code.code}
      </output>
      <button type="button" class="ghost" onClick={props.onDone}>
        Done
      </button>
    </section>
  );
}

export function InviteForm(props: {
  busy: boolean;
  onInvite: (email: string, role: User['role']) => Promise<boolean>;
}) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<User['role']>('viewer');
  const invite = async (e: Event) => {
    e.preventDefault();
    if (await props.onInvite(email, role)) setEmail('');
  };
  return (
    <form class="card inline-form" onSubmit={invite} aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <InputField label="Email" type="email" required value={email} onValue={setEmail} />
      <Field label="Role">
        {(id) => (
          <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value as User['role'])}>
            <option value="viewer">Viewer</option>
            <option value="auditor">Auditor</option>
            <option value="key-admin">Key-admin</option>
          </select>
        )}
      </Field>
      <Busy type="submit" class="primary" busy={props.busy} label="Create invite" busyLabel="Creating…" />
    </form>
  );
}

export function AreYouSure(props: {
  title: string;
  body: string;
  action: string;
  danger?: boolean;
  onClose: () => void;
  onYes: () => Promise<void>;
}) {
  const { busy, error, run } = useAction();
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.body}</p>
      <Outcome error={error} />
      <CancelOr onCancel={props.onClose}>
        <Busy
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          busy={busy}
          label={props.action}
          busyLabel="Working…"
          onClick={() => run(props.onYes)}
        />
      </CancelOr>
    </Dialog>
  );
}
