/**
 * The invitee's page, opened from the one-time link (the token is in the URL fragment, which
 * never reaches a server): choose a password under the live policy meter, then read the key's
 * fingerprint out to the key-admin.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Alert, Busy, errorText, PasswordField, StrengthMeter } from '../ui.tsx';

export function AcceptPage(props: { token: string }) {
  const [invite, setInvite] = useState<{ email: string; role: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [fingerprint, setFingerprint] = useState<string | null>(null);

  useEffect(() => {
    if (!/^[A-Za-z0-9_-]{43}$/.test(props.token)) {
      setError('This link is incomplete. Copy the whole link you were sent.');
      return;
    }
    api<{ email: string; role: string }>('POST', '/api/invites/lookup', { token: props.token }).then(setInvite, () =>
      setError('This invite link was used already or has expired. Ask the key-admin who invited you for a new one.'),
    );
  }, [props.token]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (password !== again) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ fingerprint: string }>('POST', '/api/invites/accept', { token: props.token, password });
      setPassword('');
      setAgain('');
      setFingerprint(res.fingerprint);
      // The token is spent: take it out of the address bar and history.
      history.replaceState(null, '', '/#/accept');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth" id="main">
      <div class="auth-card wide">
        <div class="brand big">
          <span class="logo" aria-hidden="true" />
          Coffer
        </div>
        <h1>{fingerprint ? 'One last step' : 'Accept your invite'}</h1>
        {fingerprint ? (
          <>
            <p>
              Read this fingerprint out to the key-admin who invited you, by phone or in person. They compare it with
              the key Coffer stored for you; your access starts when they confirm.
            </p>
            <output class="fp big mono" aria-label="Your key fingerprint">
              {fingerprint}
            </output>
            <p class="hint">
              Now, before they confirm you, sign in with your email and new password and set up an authenticator app
              under “Me”: once you are confirmed, that takes a one-time code from a key-admin.{' '}
              <a href="#/">Go to sign-in</a>
            </p>
          </>
        ) : invite ? (
          <form onSubmit={submit}>
            <p>
              You were invited as <strong>{invite.role}</strong> with the address <strong>{invite.email}</strong>.
              Choose a password: it protects your key, and nobody — not even an administrator — can recover it.
            </p>
            <PasswordField label="New password" value={password} onValue={setPassword} fresh />
            <StrengthMeter password={password} email={invite.email} />
            <PasswordField label="Repeat the password" value={again} onValue={setAgain} fresh />
            {error ? <Alert>{error}</Alert> : null}
            <Busy type="submit" class="primary block" busy={busy} label="Set password" busyLabel="Making your key…" />
          </form>
        ) : error ? (
          <Alert>{error}</Alert>
        ) : (
          <p aria-busy="true">Checking your invite…</p>
        )}
      </div>
    </main>
  );
}
