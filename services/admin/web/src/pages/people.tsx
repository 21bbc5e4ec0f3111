/**
 * People (key-admins): the list, invites with their one-time link, re-sending an expired invite,
 * confirmation by comparing fingerprints side by side, reset, and revocation with a confirm step.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type User } from '../api.ts';
import { duration, when } from '../format.ts';
import { Alert, Busy, Dialog, errorText, Field, PageHead, ScrollArea } from '../ui.tsx';

interface Person {
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

interface Link {
  email: string;
  url: string;
  expiresAt: string;
  what: string;
}

const ROLE_TEXT: Record<string, string> = {
  viewer: 'viewer (may reveal and export)',
  'key-admin': 'key-admin (manages people and keys, may reveal and export)',
  auditor: 'auditor (reads the audit log; holds no data key)',
};

function inviteUrl(token: string): string {
  // The token travels in the fragment, which browsers never send to a server or in a Referer.
  return `${location.origin}/#/accept?token=${token}`;
}

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

function LinkCard(props: { link: Link; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
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
        <button
          type="button"
          class="secondary"
          onClick={() =>
            void navigator.clipboard?.writeText(props.link.url).then(
              () => setCopied(true),
              () => {},
            )
          }
        >
          {copied ? 'Copied' : 'Copy link'}
        </button>
      </div>
      <button type="button" class="ghost" onClick={props.onDone}>
        Done
      </button>
    </div>
  );
}

function ConfirmDialog(props: { person: Person; onClose: () => void; onConfirmed: () => void }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const stored = (props.person.fingerprint ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const mine = groupsLike(typed, stored);
  // The stored value is shown only once a full fingerprint was typed from what the invitee read out.
  const complete = mine.join('').length >= stored.join('').length && stored.length > 0;
  const matches = complete && mine.join('') === stored.join('');
  // issue 16 item 4b: where two key-admins must compare, the second co-signs instead of confirming.
  const [cosigned, setCosigned] = useState(false);
  const cosign = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/users/${props.person.id}/cosign`, { fingerprint: typed });
      setCosigned(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/users/${props.person.id}/confirm`, { fingerprint: typed });
      props.onConfirmed();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Confirm ${props.person.email}`} onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <p>
          You are granting the role <strong>{ROLE_TEXT[props.person.role]}</strong>. Ask {props.person.email} to read
          out the fingerprint their acceptance page showed — by phone or in person, not by a channel an attacker could
          rewrite.
        </p>
        <Field label="Fingerprint as read out by the invitee">
          {(id) => (
            <input
              id={id}
              class="mono"
              autocomplete="off"
              spellcheck={false}
              required
              value={typed}
              onInput={(e) => setTyped(e.currentTarget.value)}
            />
          )}
        </Field>
        {complete ? (
          <section class="compare" aria-label="Fingerprints side by side">
            <div>
              <h3>Read out</h3>
              <p class="fp mono">
                {mine.map((g, i) => (
                  <span key={i} class={g === stored[i] ? 'fp-ok' : 'fp-bad'}>
                    {g}
                  </span>
                ))}
              </p>
            </div>
            <div>
              <h3>Key stored for this user</h3>
              <p class="fp mono">
                {stored.map((g, i) => (
                  <span key={i}>{g}</span>
                ))}
              </p>
            </div>
            {matches ? (
              <Alert kind="ok">The fingerprints match.</Alert>
            ) : (
              <Alert>The fingerprints differ. Do not confirm: the key on file may not be the invitee's.</Alert>
            )}
          </section>
        ) : null}
        {error ? <Alert>{error}</Alert> : null}
        {cosigned ? (
          <Alert kind="ok">Co-signed. Another key-admin who compared the same fingerprint can now confirm.</Alert>
        ) : null}
        <div class="actions">
          <button type="button" class="secondary" onClick={props.onClose}>
            Cancel
          </button>
          {props.person.role === 'key-admin' ? (
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
            label={`Confirm as ${props.person.role}`}
            busyLabel="Confirming…"
          />
        </div>
      </form>
    </Dialog>
  );
}

function AreYouSure(props: {
  title: string;
  body: string;
  action: string;
  danger?: boolean;
  onClose: () => void;
  onYes: () => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.body}</p>
      {error ? <Alert>{error}</Alert> : null}
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
        <Busy
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          busy={busy}
          label={props.action}
          busyLabel="Working…"
          onClick={async () => {
            setBusy(true);
            try {
              await props.onYes();
            } catch (err) {
              setError(errorText(err));
            } finally {
              setBusy(false);
            }
          }}
        />
      </div>
    </Dialog>
  );
}

export function PeoplePage(props: { user: User }) {
  const [people, setPeople] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<User['role']>('viewer');
  const [busy, setBusy] = useState(false);
  const [link, setLink] = useState<Link | null>(null);
  const [confirming, setConfirming] = useState<Person | null>(null);
  const [asking, setAsking] = useState<{ person: Person; kind: 'reset' | 'revoke' } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = () =>
    api<{ items: Person[] }>('GET', '/api/users').then(
      (r) => setPeople(r.items),
      (err) => setError(errorText(err)),
    );
  useEffect(() => {
    void load();
  }, []);

  const invite = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const made = await api<{ inviteToken: string; expiresAt: string }>('POST', '/api/users', { email, role });
      setLink({ email, url: inviteUrl(made.inviteToken), expiresAt: made.expiresAt, what: 'Invite created' });
      setEmail('');
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  // issue 9 item 3: a confirmed person sets up their first authenticator only with this code.
  const [enrolCode, setEnrolCode] = useState<{ email: string; code: string; expiresAt: string } | null>(null);
  const issueEnrolCode = async (p: Person) => {
    setError(null);
    try {
      const made = await api<{ code: string; expiresAt: string }>('POST', `/api/users/${p.id}/enrol-code`, {});
      setEnrolCode({ email: p.email, ...made });
    } catch (err) {
      setError(errorText(err));
    }
  };

  const reinvite = async (p: Person) => {
    setError(null);
    try {
      const made = await api<{ inviteToken: string; expiresAt: string }>('POST', `/api/users/${p.id}/reinvite`, {});
      setLink({ email: p.email, url: inviteUrl(made.inviteToken), expiresAt: made.expiresAt, what: 'New invite link' });
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section>
      <PageHead title="People">
        Invite staff, confirm them by their key's fingerprint, reset forgotten passwords and lost authenticators, revoke
        access.
      </PageHead>
      {link ? <LinkCard link={link} onDone={() => setLink(null)} /> : null}
      {notice ? <Alert kind="ok">{notice}</Alert> : null}
      {enrolCode ? (
        <section class="card" aria-labelledby="enrol-code-title">
          <h2 id="enrol-code-title">Enrolment code for {enrolCode.email}</h2>
          <p>
            Give it to them yourself, by phone or in person: with it they set up an authenticator under “Me”. It works
            once, until {when(enrolCode.expiresAt)}, and is not shown again.
          </p>
          <output class="fp big mono" aria-label="Enrolment code">
            {enrolCode.code}
          </output>
          <button type="button" class="ghost" onClick={() => setEnrolCode(null)}>
            Done
          </button>
        </section>
      ) : null}
      <form class="card inline-form" onSubmit={invite} aria-labelledby="invite-title">
        <h2 id="invite-title">Invite someone</h2>
        <Field label="Email">
          {(id) => (
            <input id={id} type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Role">
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value as User['role'])}>
              <option value="viewer">Viewer</option>
              <option value="auditor">Auditor</option>
              <option value="key-admin">Key-admin</option>
            </select>
          )}
        </Field>
        <Busy type="submit" class="primary" busy={busy} label="Create invite" busyLabel="Creating…" />
      </form>
      {error ? <Alert>{error}</Alert> : null}
      <ScrollArea label="People">
        <table>
          <caption class="sr-only">People</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">MFA</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {people?.map((p) => {
              const expired =
                p.status === 'invited' && (!p.inviteExpiresAt || Date.parse(p.inviteExpiresAt) < Date.now());
              const self = p.id === props.user.id;
              return (
                <tr key={p.id}>
                  <td title={`User id ${p.id}`}>
                    {p.email}
                    {self ? <span class="muted-text"> (you)</span> : null}
                  </td>
                  <td>
                    <span class={`badge role-${p.role}`}>{p.role}</span>
                  </td>
                  <td>
                    <span class={`badge status-${p.status}`}>{p.status}</span>
                    {p.status === 'invited' ? (
                      <span class="hint block">
                        {expired ? 'invite expired' : `invite expires ${when(p.inviteExpiresAt)}`}
                      </span>
                    ) : null}
                  </td>
                  <td>{p.mfa ? 'TOTP' : <span class="muted-text">none</span>}</td>
                  <td class="nowrap">
                    {p.lastSigninAt ? when(p.lastSigninAt) : <span class="muted-text">never</span>}
                  </td>
                  <td class="right actions-cell">
                    {p.status === 'invited' ? (
                      <button type="button" class="secondary small" onClick={() => reinvite(p)}>
                        {expired ? 'Re-send invite' : 'New link'}
                        <span class="sr-only"> for {p.email}</span>
                      </button>
                    ) : null}
                    {p.status === 'unconfirmed' ? (
                      <button type="button" class="primary small" onClick={() => setConfirming(p)}>
                        Confirm…<span class="sr-only"> {p.email}</span>
                      </button>
                    ) : null}
                    {p.status === 'active' && !self ? (
                      <button type="button" class="secondary small" onClick={() => issueEnrolCode(p)}>
                        Enrolment code<span class="sr-only"> for {p.email}</span>
                      </button>
                    ) : null}
                    {(p.status === 'active' || p.status === 'unconfirmed') && !self ? (
                      <button
                        type="button"
                        class="secondary small"
                        onClick={() => setAsking({ person: p, kind: 'reset' })}
                      >
                        Reset…<span class="sr-only"> {p.email}</span>
                      </button>
                    ) : null}
                    {p.status !== 'revoked' && !self ? (
                      <button
                        type="button"
                        class="danger small"
                        onClick={() => setAsking({ person: p, kind: 'revoke' })}
                      >
                        Revoke…<span class="sr-only"> {p.email}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollArea>
      {confirming ? (
        <ConfirmDialog
          person={confirming}
          onClose={() => setConfirming(null)}
          onConfirmed={() => {
            setNotice(`${confirming.email} is confirmed as ${confirming.role}.`);
            setConfirming(null);
            void load();
          }}
        />
      ) : null}
      {asking?.kind === 'revoke' ? (
        <AreYouSure
          title={`Revoke ${asking.person.email}?`}
          body="Their sessions end now and every key copy wrapped to them is deleted. This cannot be undone; to let them back in, invite them again."
          action="Revoke access"
          danger
          onClose={() => setAsking(null)}
          onYes={async () => {
            await api('DELETE', `/api/users/${asking.person.id}`);
            setNotice(`${asking.person.email} was revoked.`);
            setAsking(null);
            await load();
          }}
        />
      ) : null}
      {asking?.kind === 'reset' ? (
        <AreYouSure
          title={`Reset ${asking.person.email}?`}
          body="Their password, key and authenticator are forgotten and their sessions end. They get a new one-time link to set a new password, and you confirm their new fingerprint again."
          action="Reset account"
          danger
          onClose={() => setAsking(null)}
          onYes={async () => {
            const made = await api<{ inviteToken: string; expiresAt: string }>(
              'POST',
              `/api/users/${asking.person.id}/reset`,
            );
            setLink({
              email: asking.person.email,
              url: inviteUrl(made.inviteToken),
              expiresAt: made.expiresAt,
              what: 'Reset link',
            });
            setAsking(null);
            await load();
          }}
        />
      ) : null}
    </section>
  );
}
