/**
 * Me: password change under the live policy meter, TOTP enrolment with a QR code drawn here (no
 * outside service sees the secret), what to do when the authenticator is lost, and the user's own
 * live sessions with sign-out of the others.
 */
import { generate } from 'lean-qr';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type User } from '../api.ts';
import { when } from '../format.ts';
import { Alert, Busy, errorText, Field, PageHead, PasswordField, ScrollArea, StrengthMeter } from '../ui.tsx';
import { PasskeysCard } from './passkeys.tsx';

interface Session {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  mfa: boolean;
  current: boolean;
  origin: string | null;
}

/** The QR code as one SVG path, drawn from lean-qr's module matrix. */
export function QrCode(props: { text: string; label: string }) {
  const code = generate(props.text);
  const size = code.size;
  let d = '';
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (code.get(x, y)) d += `M${x + 4} ${y + 4}h1v1h-1z`;
  return (
    <svg class="qr" viewBox={`0 0 ${size + 8} ${size + 8}`} role="img" aria-label={props.label} data-modules={size}>
      <rect width={size + 8} height={size + 8} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

function PasswordCard(props: { email: string }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== again) {
      setError('The two new passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await api('POST', '/api/me/password', { current, next });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="pw-title">
      <h2 id="pw-title">Password</h2>
      <PasswordField label="Current password" value={current} onValue={setCurrent} />
      <PasswordField label="New password" value={next} onValue={setNext} fresh />
      <StrengthMeter password={next} email={props.email} />
      <PasswordField label="Repeat the new password" value={again} onValue={setAgain} fresh />
      {error ? <Alert>{error}</Alert> : null}
      {done ? <Alert kind="ok">Password changed. Your other sessions were signed out.</Alert> : null}
      <Busy type="submit" class="primary" busy={busy} label="Change password" busyLabel="Changing…" />
    </form>
  );
}

function TotpCard(props: { user: User }) {
  const [offer, setOffer] = useState<{ secret: string; otpauthUrl: string } | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [enrolled, setEnrolled] = useState(props.user.totp === true);
  const [justEnrolled, setJustEnrolled] = useState(false);
  const [enrolCode, setEnrolCode] = useState('');
  // issue 9 item 3: a confirmed account sets up its first authenticator (or one from a session
  // opened without a code) only with a one-time code from a key-admin.
  const [needsCode, setNeedsCode] = useState(false);
  useEffect(() => {
    api<User>('GET', '/api/me').then(
      (me) => {
        setEnrolled(me.totp === true);
        setNeedsCode(me.status === 'active' && (me.totp !== true || me.mfa !== true));
      },
      () => {},
    );
  }, []);
  const begin = async () => {
    setBusy(true);
    setError(null);
    try {
      const body = needsCode && enrolCode.trim() ? { enrolCode: enrolCode.trim() } : {};
      setOffer(await api<{ secret: string; otpauthUrl: string }>('POST', '/api/me/totp', body));
      setEnrolCode('');
    } catch (err) {
      if (err instanceof ApiError && err.type === 'enrol-code-required') setNeedsCode(true);
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const verify = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/me/totp/verify', { code });
      setOffer(null);
      setCode('');
      setEnrolled(true);
      setJustEnrolled(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="totp-title">
      <h2 id="totp-title">Authenticator (TOTP)</h2>
      <p>
        {enrolled
          ? 'An authenticator app is set up: sign-in asks for its code. Setting up a new one replaces it.'
          : 'Not set up. Revealing, exporting and managing people or keys may need a session opened with an authenticator code.'}
      </p>
      {justEnrolled ? (
        <Alert kind="ok">Authenticator set up. Sign out and in again with a code to use it.</Alert>
      ) : null}
      {offer ? (
        <form onSubmit={verify}>
          <p>
            Scan this code with your authenticator app. It is drawn here in your browser: the key goes to no other
            service.
          </p>
          <div class="qr-row">
            <QrCode text={offer.otpauthUrl} label="QR code to add Coffer to your authenticator app" />
            <div>
              <p class="hint">Or type this key by hand (time-based, 6 digits, 30 seconds):</p>
              <output class="mono key" aria-label="Manual setup key">
                {offer.secret.match(/.{1,4}/g)?.join(' ')}
              </output>
            </div>
          </div>
          <Field
            label="Code from the app"
            hint="Enter the 6-digit code the app now shows, to prove it is set up right."
          >
            {(id, hint) => (
              <input
                id={id}
                inputMode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                aria-describedby={hint}
                value={code}
                onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, ''))}
              />
            )}
          </Field>
          {error ? <Alert>{error}</Alert> : null}
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setOffer(null)}>
              Cancel
            </button>
            <Busy type="submit" class="primary" busy={busy} label="Turn on" busyLabel="Checking…" />
          </div>
        </form>
      ) : (
        <>
          {needsCode ? (
            <Field
              label="Enrolment code from a key-admin"
              hint="Your account is confirmed, so setting up an authenticator needs the one-time code a key-admin gives you under People."
            >
              {(id, hint) => (
                <input
                  id={id}
                  class="mono"
                  autocomplete="off"
                  spellcheck={false}
                  maxLength={40}
                  aria-describedby={hint}
                  value={enrolCode}
                  onInput={(e) => setEnrolCode(e.currentTarget.value)}
                />
              )}
            </Field>
          ) : null}
          {error ? <Alert>{error}</Alert> : null}
          <Busy
            type="button"
            class={enrolled ? 'secondary' : 'primary'}
            busy={busy}
            label={enrolled ? 'Set up a new authenticator' : 'Set up an authenticator'}
            busyLabel="Preparing…"
            onClick={begin}
          />
        </>
      )}
      <details class="recovery">
        <summary>Lost your authenticator?</summary>
        <p>
          Coffer cannot show your TOTP key again: it is sealed to your own key. Ask a key-admin to reset your account
          under People. You get a new one-time link, choose a new password, read your new fingerprint out to them, and
          set up an authenticator again before they confirm you. Until then you cannot sign in; nothing you could read
          is exposed.
        </p>
      </details>
    </section>
  );
}

function SessionsCard() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = () =>
    api<{ items: Session[] }>('GET', '/api/me/sessions').then(
      (r) => setSessions(r.items),
      (err) => setError(errorText(err)),
    );
  useEffect(() => {
    void load();
  }, []);
  const endOthers = async () => {
    setBusy(true);
    try {
      const r = await api<{ ended: number }>('POST', '/api/me/sessions/end-others', {});
      setNotice(`Signed out ${r.ended} other session${r.ended === 1 ? '' : 's'}.`);
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const endOne = async (s: Session) => {
    setBusy(true);
    try {
      await api('DELETE', `/api/me/sessions/${s.id}`);
      setNotice(`Signed out the session started ${when(s.createdAt)}.`);
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const others = sessions?.filter((s) => !s.current).length ?? 0;
  return (
    <section class="card span-2" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Your sessions</h2>
      {error ? <Alert>{error}</Alert> : null}
      {notice ? <Alert kind="ok">{notice}</Alert> : null}
      <ScrollArea label="Your live sessions">
        <table>
          <caption class="sr-only">Your live sessions</caption>
          <thead>
            <tr>
              <th scope="col">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col">From</th>
              <th scope="col">Code used</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions?.map((s) => (
              <tr key={s.id}>
                <td class="nowrap">
                  {when(s.createdAt)} {s.current ? <span class="badge status-active">this session</span> : null}
                </td>
                <td class="nowrap">{when(s.lastSeenAt)}</td>
                <td class="truncate" title={s.origin ?? ''}>
                  {s.origin ?? '—'}
                </td>
                <td>{s.mfa ? 'yes' : 'no'}</td>
                <td class="right actions-cell">
                  {s.current ? null : (
                    <button type="button" class="secondary small" disabled={busy} onClick={() => endOne(s)}>
                      Sign out<span class="sr-only"> the session started {when(s.createdAt)}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollArea>
      <Busy
        type="button"
        class="secondary"
        busy={busy}
        disabled={others === 0}
        label={`Sign out other sessions (${others})`}
        busyLabel="Signing out…"
        onClick={endOthers}
      />
    </section>
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
