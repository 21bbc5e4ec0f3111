/**
 * People (key-admins): the list, invites with their one-time link, re-sending an expired invite,
 * confirmation by comparing fingerprints side by side (people-confirm.tsx), reset, and revocation
 * with a confirm step.
 */
import { useState } from 'preact/hooks';
import { api, type User } from '../api.ts';
import { DataTable } from '../fields.tsx';
import { when } from '../format.ts';
import { useAction, useList } from '../hooks.ts';
import { Alert, Outcome, PageHead } from '../ui.tsx';
import {
  AreYouSure,
  type EnrolCode,
  EnrolCodeCard,
  InviteForm,
  inviteUrl,
  type Link,
  LinkCard,
  type Person,
} from './people-cards.tsx';
import { ConfirmDialog } from './people-confirm.tsx';

type Asking = { person: Person; kind: 'reset' | 'revoke' };

/** What a key-admin may do with one person, by their status (never reset or revoke themselves). */
function PersonActions(props: {
  person: Person;
  self: boolean;
  expired: boolean;
  onReinvite: () => void;
  onConfirm: () => void;
  onEnrolCode: () => void;
  onAsk: (kind: Asking['kind']) => void;
}) {
  const { person: p, self } = props;
  return (
    <td class="right actions-cell">
      {p.status === 'invited' ? (
        <button type="button" class="secondary small" onClick={props.onReinvite}>
          {props.expired ? 'Re-send invite' : 'New link'}
          <span class="sr-only"> for {p.email}</span>
        </button>
      ) : null}
      {p.status === 'unconfirmed' ? (
        <button type="button" class="primary small" onClick={props.onConfirm}>
          Confirm…<span class="sr-only"> {p.email}</span>
        </button>
      ) : null}
      {p.status === 'active' && !self ? (
        <button type="button" class="secondary small" onClick={props.onEnrolCode}>
          Enrolment code<span class="sr-only"> for {p.email}</span>
        </button>
      ) : null}
      {(p.status === 'active' || p.status === 'unconfirmed') && !self ? (
        <button type="button" class="secondary small" onClick={() => props.onAsk('reset')}>
          Reset…<span class="sr-only"> {p.email}</span>
        </button>
      ) : null}
      {p.status !== 'revoked' && !self ? (
        <button type="button" class="danger small" onClick={() => props.onAsk('revoke')}>
          Revoke…<span class="sr-only"> {p.email}</span>
        </button>
      ) : null}
    </td>
  );
}

type RowActions = Omit<Parameters<typeof PersonActions>[0], 'person' | 'self' | 'expired'>;

function PersonRow(props: { person: Person; self: boolean; actions: RowActions }) {
  const { person: p, self } = props;
  const expired = p.status === 'invited' && (!p.inviteExpiresAt || Date.parse(p.inviteExpiresAt) < Date.now());
  return (
    <tr>
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
          <span class="hint block">{expired ? 'invite expired' : `invite expires ${when(p.inviteExpiresAt)}`}</span>
        ) : null}
      </td>
      <td>{p.mfa ? 'TOTP' : <span class="muted-text">none</span>}</td>
      <td class="nowrap">{p.lastSigninAt ? when(p.lastSigninAt) : <span class="muted-text">never</span>}</td>
      <PersonActions person={p} self={self} expired={expired} {...props.actions} />
    </tr>
  );
}

const COLUMNS = ['Email', 'Role', 'Status', 'MFA', 'Last sign-in'];

const ASK = {
  revoke: {
    title: (p: Person) => `Revoke ${p.email}?`,
    body: 'Their sessions end now and every key copy wrapped to them is deleted. This cannot be undone; to let them back in, invite them again.',
    action: 'Revoke access',
  },
  reset: {
    title: (p: Person) => `Reset ${p.email}?`,
    body: 'Their password, key and authenticator are forgotten and their sessions end. They get a new one-time link to set a new password, and you confirm their new fingerprint again.',
    action: 'Reset account',
  },
} as const;

type Made = { inviteToken: string; expiresAt: string };

/** The page's state, and the API call behind each action (a failure goes to the page's error line). */
function usePeople() {
  const { pending, error, setError, run } = useAction();
  const { items: people, load } = useList<Person>('/api/users', setError);
  // Only the invite form shows that it is busy; the row buttons act at once.
  const inviting = pending === 'invite';
  const [link, setLink] = useState<Link | null>(null);
  const [enrolCode, setEnrolCode] = useState<EnrolCode | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const showLink = (email: string, made: Made, what: string) =>
    setLink({ email, url: inviteUrl(made.inviteToken), expiresAt: made.expiresAt, what });
  const invite = async (email: string, role: User['role']) => {
    let made = false;
    await run(
      async () => {
        showLink(email, await api<Made>('POST', '/api/users', { email, role }), 'Invite created');
        made = true;
        await load();
      },
      { key: 'invite' },
    );
    return made;
  };
  const issueEnrolCode = (p: Person) =>
    run(async () => {
      const made = await api<{ code: string; expiresAt: string }>('POST', `/api/users/${p.id}/enrol-code`, {});
      setEnrolCode({ email: p.email, ...made });
    });
  const reinvite = (p: Person) =>
    run(async () => {
      showLink(p.email, await api<Made>('POST', `/api/users/${p.id}/reinvite`, {}), 'New invite link');
      await load();
    });
  /** The confirmed step of "are you sure": its own dialog shows a failure. */
  const answer = async (asking: Asking) => {
    const p = asking.person;
    if (asking.kind === 'revoke') {
      await api('DELETE', `/api/users/${p.id}`);
      setNotice(`${p.email} was revoked.`);
    } else {
      showLink(p.email, await api<Made>('POST', `/api/users/${p.id}/reset`), 'Reset link');
    }
  };
  return {
    people,
    load,
    inviting,
    error,
    link,
    setLink,
    enrolCode,
    setEnrolCode,
    notice,
    setNotice,
    invite,
    issueEnrolCode,
    reinvite,
    answer,
  };
}

export function PeoplePage(props: { user: User }) {
  const page = usePeople();
  const [confirming, setConfirming] = useState<Person | null>(null);
  const [asking, setAsking] = useState<Asking | null>(null);
  const ask = asking ? ASK[asking.kind] : null;
  return (
    <section>
      <PageHead title="People">
        Invite staff, confirm them by their key's fingerprint, reset forgotten passwords and lost authenticators, revoke
        access.
      </PageHead>
      {page.link ? <LinkCard link={page.link} onDone={() => page.setLink(null)} /> : null}
      {page.notice ? <Alert kind="ok">{page.notice}</Alert> : null}
      {page.enrolCode ? <EnrolCodeCard code={page.enrolCode} onDone={() => page.setEnrolCode(null)} /> : null}
      <InviteForm busy={page.inviting} onInvite={page.invite} />
      <Outcome error={page.error} />
      <DataTable label="People" columns={COLUMNS} actions>
        {page.people?.map((p) => (
          <PersonRow
            key={p.id}
            person={p}
            self={p.id === props.user.id}
            actions={{
              onReinvite: () => page.reinvite(p),
              onConfirm: () => setConfirming(p),
              onEnrolCode: () => page.issueEnrolCode(p),
              onAsk: (kind) => setAsking({ person: p, kind }),
            }}
          />
        ))}
      </DataTable>
      {confirming ? (
        <ConfirmDialog
          person={confirming}
          onClose={() => setConfirming(null)}
          onConfirmed={() => {
            page.setNotice(`${confirming.email} is confirmed as ${confirming.role}.`);
            setConfirming(null);
            void page.load();
          }}
        />
      ) : null}
      {asking && ask ? (
        <AreYouSure
          title={ask.title(asking.person)}
          body={ask.body}
          action={ask.action}
          danger
          onClose={() => setAsking(null)}
          onYes={async () => {
            await page.answer(asking);
            setAsking(null);
            await page.load();
          }}
        />
      ) : null}
    </section>
  );
}
