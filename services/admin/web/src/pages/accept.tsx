/**
 * The invitee's page, opened from the one-time link (the token is in the URL fragment, which
 * never reaches a server): choose a password under the live policy meter, then read the key's
 * fingerprint out to the key-admin.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAction } from '../hooks.ts';
import { Alert, AuthCard, Busy, Outcome, PasswordField, StrengthMeter } from '../ui.tsx';

type Invite = { email: string; role: string };

/** The invite behind the token, or why there is none to show. */
function useInvite(token: string, setError: (error: string) => void) {
  const [invite, setInvite] = useState<Invite | null>(null);
  useEffect(() => {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) {
      setError('This link is incomplete. Copy the whole link you were sent.');
      return;
    }
    api<Invite>('POST', '/api/invites/lookup', { token }).then(setInvite, () =>
      setError('This invite link was used already or has expired. Ask the key-admin who invited you for a new one.'),
    );
  }, [token]);
  return invite;
}

function ShowFingerprint(props: { fingerprint: string }) {
  return (
    <>
      <p>
        Read this fingerprint out to the key-admin who invited you, by phone or in person. They compare it with the key
        Coffer stored for you; your access starts when they confirm.
      </p>
      <output class="fp big mono" aria-label="Your key fingerprint">
        {props.fingerprint}
      </output>
      <p class="hint">
        Now, before they confirm you, sign in with your email and new password and set up an authenticator app under
        “Me”: once you are confirmed, that takes a one-time code from a key-admin. <a href="#/">Go to sign-in</a>
      </p>
    </>
  );
}

function ChoosePassword(props: {
  invite: Invite;
  action: ReturnType<typeof useAction>;
  onAccept: (password: string) => Promise<void>;
}) {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const { busy, error, setError, run } = props.action;
  const submit = (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setError('The two passwords differ.');
      return;
    }
    return run(async () => {
      await props.onAccept(password);
      setPassword('');
      setAgain('');
    });
  };
  return (
    <form onSubmit={submit}>
      <p>
        You were invited as <strong>{props.invite.role}</strong> with the address <strong>{props.invite.email}</strong>.
        Choose a password: it protects your key, and nobody — not even an administrator — can recover it.
      </p>
      <PasswordField label="New password" value={password} onValue={setPassword} fresh />
      <StrengthMeter password={password} email={props.invite.email} />
      <PasswordField label="Repeat the password" value={again} onValue={setAgain} fresh />
      <Outcome error={error} />
      <Busy type="submit" class="primary block" busy={busy} label="Set password" busyLabel="Making your key…" />
    </form>
  );
}

export function AcceptPage(props: { token: string }) {
  const action = useAction();
  const invite = useInvite(props.token, action.setError);
  const [fingerprint, setFingerprint] = useState<string | null>(null);
  const accept = async (password: string) => {
    const res = await api<{ fingerprint: string }>('POST', '/api/invites/accept', { token: props.token, password });
    setFingerprint(res.fingerprint);
    // The token is spent: take it out of the address bar and history.
    history.replaceState(null, '', '/#/accept');
  };
  return (
    <AuthCard wide>
      <h1>{fingerprint ? 'One last step' : 'Accept your invite'}</h1>
      {fingerprint ? (
        <ShowFingerprint fingerprint={fingerprint} />
      ) : invite ? (
        <ChoosePassword invite={invite} action={action} onAccept={accept} />
      ) : action.error ? (
        <Alert>{action.error}</Alert>
      ) : (
        <p aria-busy="true">Checking your invite…</p>
      )}
    </AuthCard>
  );
}
