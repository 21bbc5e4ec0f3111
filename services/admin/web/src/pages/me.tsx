/**
 * Me: password change under the live policy meter, the authenticator (totp.tsx), passkeys
 * (passkeys.tsx), and the user's own live sessions with sign-out of the others (my-sessions.tsx).
 */
import { useState } from 'preact/hooks';
import { api, type User } from '../api.ts';
import { useAction } from '../hooks.ts';
import { Busy, Outcome, PageHead, PasswordField, StrengthMeter } from '../ui.tsx';
import { SessionsCard } from './my-sessions.tsx';
import { PasskeysCard } from './passkeys.tsx';
import { TotpCard } from './totp.tsx';

function PasswordCard(props: { email: string }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const { busy, error, setError, run } = useAction();
  const [done, setDone] = useState(false);
  const submit = (e: Event) => {
    e.preventDefault();
    if (next !== again) {
      setError('The two new passwords differ.');
      return;
    }
    setDone(false);
    return run(async () => {
      await api('POST', '/api/me/password', { current, next });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="pw-title">
      <h2 id="pw-title">Password</h2>
      <PasswordField label="Current password" value={current} onValue={setCurrent} />
      <PasswordField label="New password" value={next} onValue={setNext} fresh />
      <StrengthMeter password={next} email={props.email} />
      <PasswordField label="Repeat the new password" value={again} onValue={setAgain} fresh />
      <Outcome error={error} notice={done ? 'Password changed. Your other sessions were signed out.' : null} />
      <Busy type="submit" class="primary" busy={busy} label="Change password" busyLabel="Changing…" />
    </form>
  );
}

export function MePage(props: { user: User }) {
  return (
    <section>
      <PageHead title="Me">
        {props.user.email} · <span class={`badge role-${props.user.role}`}>{props.user.role}</span>
        {props.user.mfa ? ' · signed in with an authenticator code' : ''}
      </PageHead>
      <div class="grid-2">
        <PasswordCard email={props.user.email} />
        <TotpCard user={props.user} />
        <PasskeysCard />
        <SessionsCard />
      </div>
    </section>
  );
}
