/**
 * Me → Authenticator (TOTP): enrolment with a QR code drawn here (no outside service sees the
 * secret), the key-admin's enrolment code where the account needs one, and what to do when the
 * authenticator is lost.
 */
import { generate } from 'lean-qr';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type User } from '../api.ts';
import { CodeField, InputField } from '../fields.tsx';
import { type RunOptions, useAction } from '../hooks.ts';
import { Alert, Busy, CancelOr, errorText, Outcome } from '../ui.tsx';

interface Offer {
  secret: string;
  otpauthUrl: string;
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

/** The offered secret as a QR code and as text, and the first code from the app to prove it. */
function VerifyOffer(props: {
  offer: Offer;
  busy: boolean;
  error: string | null;
  onVerify: (code: string) => void;
  onCancel: () => void;
}) {
  const [code, setCode] = useState('');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        props.onVerify(code);
      }}
    >
      <p>
        Scan this code with your authenticator app. It is drawn here in your browser: the key goes to no other service.
      </p>
      <div class="qr-row">
        <QrCode text={props.offer.otpauthUrl} label="QR code to add Coffer to your authenticator app" />
        <div>
          <p class="hint">Or type this key by hand (time-based, 6 digits, 30 seconds):</p>
          <output class="mono key" aria-label="Manual setup key">
            {props.offer.secret.match(/.{1,4}/g)?.join(' ')}
          </output>
        </div>
      </div>
      <CodeField
        label="Code from the app"
        hint="Enter the 6-digit code the app now shows, to prove it is set up right."
        value={code}
        onValue={setCode}
      />
      <Outcome error={props.error} />
      <CancelOr onCancel={props.onCancel}>
        <Busy type="submit" class="primary" busy={props.busy} label="Turn on" busyLabel="Checking…" />
      </CancelOr>
    </form>
  );
}

function LostAuthenticator() {
  return (
    <details class="recovery">
      <summary>Lost your authenticator?</summary>
      <p>
        Coffer cannot show your TOTP key again: it is sealed to your own key. Ask a key-admin to reset your account
        under People. You get a new one-time link, choose a new password, read your new fingerprint out to them, and set
        up an authenticator again before they confirm you. Until then you cannot sign in; nothing you could read is
        exposed.
      </p>
    </details>
  );
}

/**
 * Whether TOTP is set up, and whether setting one up needs a key-admin's code (issue 9 item 3: a
 * confirmed account sets up its first authenticator, or one from a session opened without a code,
 * only with a one-time code from a key-admin).
 */
function useTotpState(user: User) {
  const [enrolled, setEnrolled] = useState(user.totp === true);
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
  return { enrolled, setEnrolled, needsCode, setNeedsCode };
}

export function TotpCard(props: { user: User }) {
  const { busy, error, run } = useAction();
  const state = useTotpState(props.user);
  const [offer, setOffer] = useState<Offer | null>(null);
  const [justEnrolled, setJustEnrolled] = useState(false);
  const [enrolCode, setEnrolCode] = useState('');
  const needsCodeOnRefusal: RunOptions = {
    fail: (err) => {
      if (err instanceof ApiError && err.type === 'enrol-code-required') state.setNeedsCode(true);
      return errorText(err);
    },
  };
  const begin = () =>
    run(async () => {
      const body = state.needsCode && enrolCode.trim() ? { enrolCode: enrolCode.trim() } : {};
      setOffer(await api<Offer>('POST', '/api/me/totp', body));
      setEnrolCode('');
    }, needsCodeOnRefusal);
  const verify = (code: string) =>
    run(async () => {
      await api('POST', '/api/me/totp/verify', { code });
      setOffer(null);
      state.setEnrolled(true);
      setJustEnrolled(true);
    });
  const { enrolled } = state;
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
        <VerifyOffer offer={offer} busy={busy} error={error} onVerify={verify} onCancel={() => setOffer(null)} />
      ) : (
        <>
          {state.needsCode ? (
            <InputField
              label="Enrolment code from a key-admin"
              hint="Your account is confirmed, so setting up an authenticator needs the one-time code a key-admin gives you under People."
              class="mono"
              autocomplete="off"
              spellcheck={false}
              maxLength={40}
              value={enrolCode}
              onValue={setEnrolCode}
            />
          ) : null}
          <Outcome error={error} />
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
      <LostAuthenticator />
    </section>
  );
}
