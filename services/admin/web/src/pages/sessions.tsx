/**
 * Sessions (key-admins): every live session — who, from which IP and browser, when it started and
 * was last used, whether it was opened with an authenticator code — and ending any of them. Ending
 * deletes the session's wrapped key in the vault at once; the person's next request is refused.
 */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { DataTable } from '../fields.tsx';
import { when } from '../format.ts';
import { useAction, useList } from '../hooks.ts';
import { Outcome, PageHead } from '../ui.tsx';

export interface LiveSession {
  id: string;
  email: string;
  role: string;
  createdAt: string;
  lastSeenAt: string;
  mfa: 'totp' | 'none';
  current: boolean;
  ip: string | null;
  userAgent: string | null;
}

const COLUMNS = ['Person', 'IP address', 'Browser', 'Signed in', 'Last active', 'Second factor'];

function SessionRow(props: { session: LiveSession; ending: string | null; onEnd: () => void }) {
  const s = props.session;
  return (
    <tr>
      <td title={`Session ${s.id}`}>
        {s.email} <span class={`badge role-${s.role}`}>{s.role}</span>
        {s.current ? <span class="badge status-active">this session</span> : null}
      </td>
      <td class="mono nowrap">{s.ip ?? '—'}</td>
      <td class="truncate" title={s.userAgent ?? ''}>
        {s.userAgent ?? '—'}
      </td>
      <td class="nowrap">{when(s.createdAt)}</td>
      <td class="nowrap">{when(s.lastSeenAt)}</td>
      <td>{s.mfa === 'totp' ? 'TOTP' : <span class="muted-text">none</span>}</td>
      <td class="right actions-cell">
        {s.current ? null : (
          <button
            type="button"
            class="danger small"
            disabled={props.ending !== null}
            aria-busy={props.ending === s.id}
            onClick={props.onEnd}
          >
            End session
            <span class="sr-only">
              {' '}
              of {s.email} started {when(s.createdAt)}
            </span>
          </button>
        )}
      </td>
    </tr>
  );
}

export function SessionsPage() {
  const [notice, setNotice] = useState<string | null>(null);
  const { pending, error, setError, run } = useAction();
  const { items: sessions, load } = useList<LiveSession>('/api/sessions', setError);
  const end = (s: LiveSession) =>
    run(
      async () => {
        await api('DELETE', `/api/sessions/${s.id}`);
        setNotice(`Ended the session of ${s.email} started ${when(s.createdAt)}.`);
        await load();
      },
      { key: s.id },
    );
  return (
    <section>
      <PageHead title="Sessions">
        Everyone signed in now. Ending a session deletes its key at once; the person must sign in again.
      </PageHead>
      <Outcome error={error} notice={notice} />
      <DataTable label="Live sessions" columns={COLUMNS} actions>
        {sessions?.map((s) => (
          <SessionRow key={s.id} session={s} ending={pending} onEnd={() => end(s)} />
        ))}
      </DataTable>
    </section>
  );
}
