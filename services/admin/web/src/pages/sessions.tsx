/**
 * Sessions (key-admins): every live session — who, from which IP and browser, when it started and
 * was last used, whether it was opened with an authenticator code — and ending any of them. Ending
 * deletes the session's wrapped key in the vault at once; the person's next request is refused.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { when } from '../format.ts';
import { Alert, errorText, PageHead, ScrollArea } from '../ui.tsx';

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

export function SessionsPage() {
  const [sessions, setSessions] = useState<LiveSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [ending, setEnding] = useState<string | null>(null);
  const load = () =>
    api<{ items: LiveSession[] }>('GET', '/api/sessions').then(
      (r) => setSessions(r.items),
      (err) => setError(errorText(err)),
    );
  useEffect(() => {
    void load();
  }, []);
  const end = async (s: LiveSession) => {
    setEnding(s.id);
    setError(null);
    try {
      await api('DELETE', `/api/sessions/${s.id}`);
      setNotice(`Ended the session of ${s.email} started ${when(s.createdAt)}.`);
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setEnding(null);
    }
  };
  return (
    <section>
      <PageHead title="Sessions">
        Everyone signed in now. Ending a session deletes its key at once; the person must sign in again.
      </PageHead>
      {error ? <Alert>{error}</Alert> : null}
      {notice ? <Alert kind="ok">{notice}</Alert> : null}
      <ScrollArea label="Live sessions">
        <table>
          <caption class="sr-only">Live sessions</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">IP address</th>
              <th scope="col">Browser</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col">Second factor</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions?.map((s) => (
              <tr key={s.id}>
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
                      disabled={ending !== null}
                      aria-busy={ending === s.id}
                      onClick={() => end(s)}
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
            ))}
          </tbody>
        </table>
      </ScrollArea>
    </section>
  );
}
