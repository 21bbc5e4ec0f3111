/**
 * Sign-in: email and password; the authenticator step appears only when the server answers that
 * this account needs a code (which it tells only after the password was right).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type User } from '../api.ts';
import { CodeField, InputField } from '../fields.tsx';
import { duration } from '../format.ts';
import { useAction } from '../hooks.ts';
import { passkeysSupported, signInWithPasskey } from '../passkey.ts';
import { Alert, AuthCard, Busy, errorText, PasswordField } from '../ui.tsx';

type OnSignedIn = (user: User, csrf: string) => void;

/** After a 423 or 429: until when to wait, counted down once a second. */
function useRetryWait() {
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!waitUntil) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [waitUntil]);
  const hold = (seconds: number) => {
    // `now` last ticked when the form was drawn: without this the first message over-states the wait.
    const at = Date.now();
    setNow(at);
    setWaitUntil(at + seconds * 1000);
  };
  const waiting = waitUntil !== null && waitUntil > now;
  return { waiting, left: waiting ? (waitUntil - now) / 1000 : 0, hold };
}

/** The sign-in form's state and its two ways in: the password (and a code), or a passkey. */
function useSignIn(onSignedIn: OnSignedIn) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const { busy, error, run } = useAction();
  const wait = useRetryWait();
  const refused = (err: unknown): string | null => {
    if (err instanceof ApiError && err.type === 'totp-required') {
      setNeedCode(true);
      return null;
    }
    if (err instanceof ApiError && (err.status === 423 || err.status === 429)) {
      wait.hold(err.retryAfter ?? 60);
      return err.status === 423
        ? 'Too many failed sign-ins for this account. It is locked for a while to stop password guessing.'
        : 'Too many sign-in attempts from this address.';
    }
    if (err instanceof ApiError && err.type === 'signin-failed') {
      setCode('');
      return needCode
        ? 'That code was not accepted. Codes work once; wait for the next one.'
        : 'Wrong email or password.';
    }
    return errorText(err);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    return run(
      async () => {
        const s = await api<{ user: User; csrf: string }>('POST', '/api/session', {
          email,
          password,
          ...(needCode ? { totp: code } : {}),
        });
        setPassword('');
        setCode('');
        onSignedIn(s.user, s.csrf);
      },
      { fail: refused },
    );
  };
  const withPasskey = () =>
    run(
      async () => {
        const s = await signInWithPasskey();
        onSignedIn(s.user, s.csrf);
      },
      {
        fail: (err) =>
          err instanceof ApiError && err.type === 'signin-failed'
            ? 'This passkey does not sign in here.'
            : err instanceof ApiError && err.status === 404
              ? 'Passkeys are not set up on this server.'
              : errorText(err),
      },
    );
  const otherAccount = () => {
    setNeedCode(false);
    setCode('');
    setPassword('');
  };
  const fields = { email, setEmail, password, setPassword, code, setCode };
  return { fields, needCode, busy, error, wait, submit, withPasskey, otherAccount };
}

export function SignInPage(props: { notice: string | null; onSignedIn: OnSignedIn }) {
  const s = useSignIn(props.onSignedIn);
  const { fields, needCode, wait } = s;
  const codeRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (needCode) codeRef.current?.focus();
  }, [needCode]);
  return (
    <AuthCard>
      <h1>Sign in</h1>
      <p class="lede">Staff console. Every action you take here is recorded in the audit log.</p>
      {props.notice ? <Alert kind="info">{props.notice}</Alert> : null}
      <form onSubmit={s.submit} aria-describedby={s.error ? 'signin-error' : undefined}>
        <InputField
          label="Email"
          type="email"
          autocomplete="username"
          required
          value={fields.email}
          readOnly={needCode}
          onValue={fields.setEmail}
        />
        <PasswordField label="Password" value={fields.password} onValue={fields.setPassword} readOnly={needCode} />
        {needCode ? (
          <CodeField
            label="Authenticator code"
            hint="The 6-digit code your authenticator app shows for Coffer."
            value={fields.code}
            onValue={fields.setCode}
            inputRef={codeRef}
          />
        ) : null}
        {s.error ? (
          <div id="signin-error">
            <Alert>
              {s.error}
              {wait.waiting ? ` Try again in ${duration(wait.left)}.` : ''}
            </Alert>
          </div>
        ) : null}
        <Busy
          type="submit"
          class="primary block"
          busy={s.busy}
          disabled={wait.waiting}
          label={needCode ? 'Verify code' : 'Sign in'}
          busyLabel={needCode ? 'Verifying…' : 'Checking password…'}
        />
        {needCode ? (
          <button type="button" class="ghost block" onClick={s.otherAccount}>
            Use another account
          </button>
        ) : null}
      </form>
      {passkeysSupported() && !needCode ? (
        <button type="button" class="ghost block" disabled={s.busy || wait.waiting} onClick={s.withPasskey}>
          Sign in with a passkey
        </button>
      ) : null}
      <p class="hint">Lost your authenticator or forgot your password? Ask a key-admin to reset your account.</p>
    </AuthCard>
  );
}
