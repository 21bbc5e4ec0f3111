/** Me → Your sessions: the person's own live sessions, and signing out one or all of the others. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { DataTable } from '../fields.tsx';
import { when } from '../format.ts';
import { useAction, useList } from '../hooks.ts';
import { Busy, Outcome } from '../ui.tsx';

interface Session {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  mfa: boolean;
  current: boolean;
  origin: string | null;
}

const COLUMNS = ['Signed in', 'Last active', 'From', 'Code used'];

function SessionRow(props: { session: Session; busy: boolean; onEnd: () => void }) {
  const s = props.session;
  return (
    <tr>
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
          <button type="button" class="secondary small" disabled={props.busy} onClick={props.onEnd}>
            Sign out<span class="sr-only"> the session started {when(s.createdAt)}</span>
          </button>
        )}
      </td>
    </tr>
  );
}

export function SessionsCard() {
  const [notice, setNotice] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  const { items: sessions, load } = useList<Session>('/api/me/sessions', setError);
  const endOthers = () =>
    run(async () => {
      const r = await api<{ ended: number }>('POST', '/api/me/sessions/end-others', {});
      setNotice(`Signed out ${r.ended} other session${r.ended === 1 ? '' : 's'}.`);
      await load();
    });
  const endOne = (s: Session) =>
    run(async () => {
      await api('DELETE', `/api/me/sessions/${s.id}`);
      setNotice(`Signed out the session started ${when(s.createdAt)}.`);
      await load();
    });
  const others = sessions?.filter((s) => !s.current).length ?? 0;
  return (
    <section class="card span-2" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Your sessions</h2>
      <Outcome error={error} notice={notice} />
      <DataTable label="Your live sessions" columns={COLUMNS} actions>
        {sessions?.map((s) => (
          <SessionRow key={s.id} session={s} busy={busy} onEnd={() => endOne(s)} />
        ))}
      </DataTable>
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
