/** Small building blocks shared by the pages: fields, alerts, dialogs, the strength meter. */
import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { loadPolicy } from './lazy.ts';

export function Field(props: {
  label: string;
  hint?: ComponentChildren;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id, hintId)}
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}

/** A labelled password input: the current password, or a new one (`fresh`). */
export function PasswordField(props: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  fresh?: boolean;
  readOnly?: boolean;
}) {
  return (
    <Field label={props.label}>
      {(id) => (
        <input
          id={id}
          type="password"
          autocomplete={props.fresh ? 'new-password' : 'current-password'}
          required
          value={props.value}
          readOnly={props.readOnly ?? false}
          onInput={(e) => props.onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** An error (role=alert, read out at once) or a notice (role=status). */
/** `urgent`: announced at once (role alert) whatever its kind; errors always are. */
export function Alert(props: {
  kind?: 'error' | 'ok' | 'info' | 'warn';
  urgent?: boolean;
  children: ComponentChildren;
}) {
  const kind = props.kind ?? 'error';
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' || props.urgent ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** An error whose message is written for the person at the screen (not an internal detail). */
export class Notice extends Error {
  override readonly name: string = 'Notice';
}

export function errorText(err: unknown): string {
  if (err instanceof Notice) return err.message;
  // WebAuthn: the person cancelled, or the authenticator did not answer in time.
  if (err instanceof Error && err.name === 'NotAllowedError')
    return 'The authenticator did not answer (cancelled or timed out).';
  if (err instanceof ApiError) {
    if (err.type === 'mfa-required') {
      return 'This needs a session opened with your authenticator code: enrol TOTP under “Me”, then sign in again.';
    }
    return err.sentence;
  }
  return 'Something went wrong. Try again.';
}

export function Busy(
  props: { busy: boolean; label: string; busyLabel: string } & ButtonHTMLAttributes<HTMLButtonElement>,
) {
  const { busy, label, busyLabel, ...rest } = props;
  return (
    <button {...rest} disabled={busy || rest.disabled} aria-busy={busy ? 'true' : undefined}>
      {busy ? <span class="spinner" aria-hidden="true" /> : null}
      {busy ? busyLabel : label}
    </button>
  );
}

/**
 * A modal dialog on the native <dialog>: focus moves in and is trapped by the browser, Escape
 * closes, and focus returns to what opened it.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    dialog?.showModal();
    // Start where the work is: the first field, else the first action (not the close button).
    dialog?.querySelector<HTMLElement>('input, select, textarea, .actions button')?.focus();
    return () => {
      dialog?.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'dialog wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <div class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="ghost icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}

const LABELS = ['Very weak', 'Weak', 'Fair', 'Good', 'Meets the policy'];

/** The server's password policy, run here as the person types: same library, same rules. */
export function StrengthMeter(props: { password: string; email: string }) {
  const [check, setCheck] = useState<typeof import('./policy-chunk.ts').passwordStrength | null>(null);
  useEffect(() => {
    loadPolicy().then(
      (m) => setCheck(() => m.passwordStrength),
      () => {},
    );
  }, []);
  if (!props.password || !check) {
    return (
      <div class="meter">
        <p class="hint">
          {check ? 'At least 15 characters, hard to guess, not built on your email.' : 'Loading the password policy…'}
        </p>
      </div>
    );
  }
  const { score, verdict } = check(props.password, props.email);
  return (
    <div class="meter" aria-live="polite">
      <div class="meter-bar" data-score={score} aria-hidden="true">
        <span />
        <span />
        <span />
        <span />
      </div>
      <p class={verdict.ok ? 'meter-ok' : 'meter-no'}>
        {LABELS[score]}
        {verdict.ok ? '' : ` — ${verdict.detail}`}
      </p>
    </div>
  );
}

export function PageHead(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <h1>{props.title}</h1>
      {props.children ? <p class="lede">{props.children}</p> : null}
    </div>
  );
}

/** A table's horizontal scroller: keyboard users must be able to reach and scroll it too. */
export function ScrollArea(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable to scroll by keyboard (WCAG 2.1.1)
    <section class="table-wrap" tabIndex={0} aria-label={props.label}>
      {props.children}
    </section>
  );
}

/** What the last action on a card or page came to: its error, or its notice of success. */
export function Outcome(props: { error: string | null; notice?: string | null }) {
  return (
    <>
      {props.error ? <Alert>{props.error}</Alert> : null}
      {props.notice ? <Alert kind="ok">{props.notice}</Alert> : null}
    </>
  );
}

/** Copies `text`; the label says "Copied" once the clipboard took it. */
export function CopyButton(props: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="secondary"
      onClick={() =>
        void navigator.clipboard?.writeText(props.text).then(
          () => setCopied(true),
          () => setCopied(false),
        )
      }
    >
      {copied ? 'Copied' : props.label}
    </button>
  );
}

/** The page around signing in and accepting an invite: no navigation, the brand, one card. */
export function AuthCard(props: { wide?: boolean; children: ComponentChildren }) {
  return (
    <main class="auth" id="main">
      <div class={props.wide ? 'auth-card wide' : 'auth-card'}>
        <div class="brand big">
          <span class="logo" aria-hidden="true" />
          Coffer
        </div>
        {props.children}
      </div>
    </main>
  );
}

/** A form's or dialog's row of actions: Cancel first, then what the children offer. */
export function CancelOr(props: { onCancel: () => void; children: ComponentChildren }) {
  return (
    <div class="actions">
      <button type="button" class="secondary" onClick={props.onCancel}>
        Cancel
      </button>
      {props.children}
    </div>
  );
}
