/** The Coffer console: routing, the session, and the shell around every page. */
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onSessionEnded, type Settings, setCsrf, type User } from './api.ts';
import { AcceptPage } from './pages/accept.tsx';
import { ApprovalsPage } from './pages/approvals.tsx';
import { AuditPage } from './pages/audit.tsx';
import { DecoysPage } from './pages/decoys.tsx';
import { ExportPage } from './pages/export.tsx';
import { KeysPage } from './pages/keys.tsx';
import { MePage } from './pages/me.tsx';
import { PeoplePage } from './pages/people.tsx';
import { RecordsPage } from './pages/records.tsx';
import { SessionsPage } from './pages/sessions.tsx';
import { SignInPage } from './pages/signin.tsx';
import { IdleWarning } from './session.tsx';

interface Route {
  readonly path: string;
  readonly label: string;
  readonly roles: readonly User['role'][];
}

export const ROUTES: readonly Route[] = [
  { path: 'records', label: 'Records', roles: ['viewer', 'key-admin', 'auditor'] },
  { path: 'export', label: 'Export', roles: ['viewer', 'key-admin'] },
  { path: 'approvals', label: 'Approvals', roles: ['viewer', 'key-admin'] },
  { path: 'people', label: 'People', roles: ['key-admin'] },
  { path: 'keys', label: 'Keys', roles: ['key-admin'] },
  { path: 'decoys', label: 'Decoys', roles: ['key-admin'] },
  { path: 'audit', label: 'Audit log', roles: ['auditor', 'key-admin'] },
  { path: 'sessions', label: 'Sessions', roles: ['key-admin'] },
  { path: 'me', label: 'Me', roles: ['viewer', 'key-admin', 'auditor'] },
];

function currentHash(): string {
  return location.hash.replace(/^#\/?/, '');
}

function useHash(): string {
  const [hash, setHash] = useState(currentHash());
  useEffect(() => {
    const on = () => setHash(currentHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const hash = useHash();
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [settings, setSettings] = useState<Settings>({ revealSeconds: 30, idleSeconds: 900 });
  const [ended, setEnded] = useState<string | null>(null);

  useEffect(() => {
    api<Settings>('GET', '/api/console').then(setSettings, () => {});
    // A reload with a live session lands in the app: the session answers who we are and our CSRF value.
    api<{ user: User; csrf: string }>('GET', '/api/session').then(
      (s) => {
        setCsrf(s.csrf);
        setUser(s.user);
      },
      () => setUser(null),
    );
    return onSessionEnded(() => {
      setCsrf(null);
      setUser(null);
      setEnded('Your session has ended. Sign in again to continue.');
    });
  }, []);

  useEffect(() => {
    const page = ROUTES.find((r) => hash.startsWith(r.path));
    document.title = `${hash.startsWith('accept') ? 'Accept invite' : user ? (page?.label ?? 'Records') : 'Sign in'} · Coffer`;
  }, [hash, user]);

  if (hash.startsWith('accept'))
    return <AcceptPage token={new URLSearchParams(hash.split('?')[1] ?? '').get('token') ?? ''} />;
  if (user === undefined) return <div class="loading" aria-busy="true" />;
  if (user === null) {
    return (
      <SignInPage
        notice={ended}
        onSignedIn={(u, csrf) => {
          setCsrf(csrf);
          setEnded(null);
          setUser(u);
        }}
      />
    );
  }
  const allowed = ROUTES.filter((r) => r.roles.includes(user.role));
  const route = allowed.find((r) => hash.split('?')[0] === r.path) ?? allowed[0];
  const signOut = async () => {
    await api('DELETE', '/api/session').catch(() => {});
    setCsrf(null);
    setUser(null);
    setEnded('You have signed out.');
  };
  return (
    <div class="shell">
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          Coffer
        </div>
        <nav aria-label="Main">
          <ul>
            {allowed.map((r) => (
              <li key={r.path}>
                <a href={`#/${r.path}`} aria-current={r === route ? 'page' : undefined}>
                  {r.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="who-email">{user.email}</span>
          <span class={`badge role-${user.role}`}>{user.role}</span>
          <button type="button" class="secondary small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {route?.path === 'records' ? <RecordsPage user={user} settings={settings} /> : null}
        {route?.path === 'export' ? <ExportPage /> : null}
        {route?.path === 'approvals' ? <ApprovalsPage user={user} /> : null}
        {route?.path === 'decoys' ? <DecoysPage /> : null}
        {route?.path === 'people' ? <PeoplePage user={user} /> : null}
        {route?.path === 'keys' ? <KeysPage /> : null}
        {route?.path === 'audit' ? <AuditPage /> : null}
        {route?.path === 'sessions' ? <SessionsPage /> : null}
        {route?.path === 'me' ? <MePage user={user} /> : null}
      </main>
      <IdleWarning
        idleSeconds={settings.idleSeconds}
        onExpired={() => {
          setCsrf(null);
          setUser(null);
          setEnded('You were signed out after 15 idle minutes.');
        }}
      />
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
