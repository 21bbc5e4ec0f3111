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

/** Who is signed in (undefined while asking), and why a session ended when it did. */
function useSession() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [ended, setEnded] = useState<string | null>(null);
  const end = (why: string) => {
    setCsrf(null);
    setUser(null);
    setEnded(why);
  };
  useEffect(() => {
    // A reload with a live session lands in the app: the session answers who we are and our CSRF value.
    api<{ user: User; csrf: string }>('GET', '/api/session').then(
      (s) => {
        setCsrf(s.csrf);
        setUser(s.user);
      },
      () => setUser(null),
    );
    return onSessionEnded(() => end('Your session has ended. Sign in again to continue.'));
  }, []);
  const signedIn = (u: User, csrf: string) => {
    setCsrf(csrf);
    setEnded(null);
    setUser(u);
  };
  const signOut = async () => {
    await api('DELETE', '/api/session').catch(() => {});
    end('You have signed out.');
  };
  return { user, ended, end, signedIn, signOut };
}

function useSettings(): Settings {
  const [settings, setSettings] = useState<Settings>({ revealSeconds: 30, idleSeconds: 900 });
  useEffect(() => {
    api<Settings>('GET', '/api/console').then(setSettings, () => {});
  }, []);
  return settings;
}

function TopBar(props: { user: User; allowed: readonly Route[]; route: Route | undefined; onSignOut: () => void }) {
  const { user } = props;
  return (
    <header class="topbar">
      <div class="brand">
        <span class="logo" aria-hidden="true" />
        Coffer
      </div>
      <nav aria-label="Main">
        <ul>
          {props.allowed.map((r) => (
            <li key={r.path}>
              <a href={`#/${r.path}`} aria-current={r === props.route ? 'page' : undefined}>
                {r.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <span class="who-email">{user.email}</span>
        <span class={`badge role-${user.role}`}>{user.role}</span>
        <button type="button" class="secondary small" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function Page(props: { path: string | undefined; user: User; settings: Settings }) {
  const { user } = props;
  switch (props.path) {
    case 'records':
      return <RecordsPage user={user} settings={props.settings} />;
    case 'export':
      return <ExportPage />;
    case 'approvals':
      return <ApprovalsPage user={user} />;
    case 'decoys':
      return <DecoysPage />;
    case 'people':
      return <PeoplePage user={user} />;
    case 'keys':
      return <KeysPage />;
    case 'audit':
      return <AuditPage />;
    case 'sessions':
      return <SessionsPage />;
    case 'me':
      return <MePage user={user} />;
    default:
      return null;
  }
}

function App() {
  const hash = useHash();
  const settings = useSettings();
  const session = useSession();
  const { user } = session;

  useEffect(() => {
    const page = ROUTES.find((r) => hash.startsWith(r.path));
    document.title = `${hash.startsWith('accept') ? 'Accept invite' : user ? (page?.label ?? 'Records') : 'Sign in'} · Coffer`;
  }, [hash, user]);

  if (hash.startsWith('accept'))
    return <AcceptPage token={new URLSearchParams(hash.split('?')[1] ?? '').get('token') ?? ''} />;
  if (user === undefined) return <div class="loading" aria-busy="true" />;
  if (user === null) return <SignInPage notice={session.ended} onSignedIn={session.signedIn} />;
  const allowed = ROUTES.filter((r) => r.roles.includes(user.role));
  const route = allowed.find((r) => hash.split('?')[0] === r.path) ?? allowed[0];
  return (
    <div class="shell">
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <TopBar user={user} allowed={allowed} route={route} onSignOut={session.signOut} />
      <main id="main" tabIndex={-1}>
        <Page path={route?.path} user={user} settings={settings} />
      </main>
      <IdleWarning
        idleSeconds={settings.idleSeconds}
        onExpired={() => session.end('You were signed out after 15 idle minutes.')}
      />
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
