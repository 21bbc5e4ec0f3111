/**
 * Sign-in: email and password; the authenticator step appears only when the server answers that
 * this account needs a code (which it tells only after the password was right).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type User } from '../api.ts';
import { duration } from '../format.ts';
import { passkeysSupported, signInWithPasskey } from '../passkey.ts';
import { Alert, Busy, errorText, Field, PasswordField } from '../ui.tsx';

export function SignInPage(props: { notice: string | null; onSignedIn: (user: User, csrf: string) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!waitUntil) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [waitUntil]);
  useEffect(() => {
    if (needCode) codeRef.current?.focus();
  }, [needCode]);

  const waiting = waitUntil !== null && waitUntil > now;
  const withPasskey = async () => {
    setBusy(true);
    setError(null);
    try {
      const s = await signInWithPasskey();
      props.onSignedIn(s.user, s.csrf);
    } catch (err) {
      setError(
        err instanceof ApiError && err.type === 'signin-failed'
          ? 'This passkey does not sign in here.'
          : err instanceof ApiError && err.status === 404
            ? 'Passkeys are not set up on this server.'
            : errorText(err),
      );
    } finally {
      setBusy(false);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api<{ user: User; csrf: string }>('POST', '/api/session', {
        email,
        password,
        ...(needCode ? { totp: code } : {}),
      });
      setPassword('');
      setCode('');
      props.onSignedIn(s.user, s.csrf);
    } catch (err) {
      if (err instanceof ApiError && err.type === 'totp-required') {
        setNeedCode(true);
      } else if (err instanceof ApiError && (err.status === 423 || err.status === 429)) {
        const wait = err.retryAfter ?? 60;
        // `now` last ticked when the form was drawn: without this the first message over-states the wait.
        const at = Date.now();
        setNow(at);
        setWaitUntil(at + wait * 1000);
        setError(
          err.status === 423
            ? 'Too many failed sign-ins for this account. It is locked for a while to stop password guessing.'
            : 'Too many sign-in attempts from this address.',
        );
      } else if (err instanceof ApiError && err.type === 'signin-failed') {
        setError(
          needCode ? 'That code was not accepted. Codes work once; wait for the next one.' : 'Wrong email or password.',
        );
        setCode('');
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth" id="main">
      <div class="auth-card">
        <div class="brand big">
          <span class="logo" aria-hidden="true" />
          Coffer
        </div>
        <h1>Sign in</h1>
        <p class="lede">Staff console. Every action you take here is recorded in the audit log.</p>
        {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
        <form onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined}>
          <Field label="Email">
            {(id) => (
              <input
                id={id}
                type="email"
                autocomplete="username"
                required
                value={email}
                readOnly={needCode}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            )}
          </Field>
          <PasswordField label="Password" value={password} onValue={setPassword} readOnly={needCode} />
          {needCode ? (
            <Field label="Authenticator code" hint="The 6-digit code your authenticator app shows for Coffer.">
              {(id, hint) => (
                <input
                  id={id}
                  ref={codeRef}
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
          ) : null}
          {error ? (
            <div id="signin-error">
              <Alert>
                {error}
                {waiting ? ` Try again in ${duration((waitUntil - now) / 1000)}.` : ''}
              </Alert>
            </div>
          ) : null}
          <Busy
            type="submit"
            class="primary block"
            busy={busy}
            disabled={waiting}
            label={needCode ? 'Verify code' : 'Sign in'}
            busyLabel={needCode ? 'Verifying…' : 'Checking password…'}
          />
          {needCode ? (
            <button
              type="button"
              class="ghost block"
              onClick={() => {
                setNeedCode(false);
                setCode('');
                setPassword('');
              }}
            >
              Use another account
            </button>
          ) : null}
        </form>
        {passkeysSupported() && !needCode ? (
          <button type="button" class="ghost block" disabled={busy || waiting} onClick={withPasskey}>
            Sign in with a passkey
          </button>
        ) : null}
        <p class="hint">Lost your authenticator or forgot your password? Ask a key-admin to reset your account.</p>
      </div>
    </main>
  );
}
