/** Me → Passkeys: register one (it asks for the password once), list them, remove one. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { when } from '../format.ts';
import { addPasskey, passkeysSupported } from '../passkey.ts';
import { Alert, Busy, errorText, Field, PasswordField } from '../ui.tsx';

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  unlock: boolean;
}

export function PasskeysCard() {
  const [items, setItems] = useState<Passkey[] | null>(null);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = () =>
    api<{ items: Passkey[] }>('GET', '/api/me/passkeys').then(
      (r) => setItems(r.items),
      (err) => setError(errorText(err)),
    );
  useEffect(() => {
    void load();
  }, []);
  const add = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const added = await addPasskey(name, password);
      setPassword('');
      setName('');
      setNotice(
        added.unlock
          ? 'Passkey added. You can now sign in with it alone.'
          : 'Passkey added as a second factor only: this authenticator cannot unlock your key.',
      );
      await load();
    } catch (err) {
      setPassword('');
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (p: Passkey) => {
    setError(null);
    try {
      await api('DELETE', `/api/me/passkeys/${encodeURIComponent(p.id)}`);
      setNotice(`Passkey “${p.name}” removed.`);
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">Passkeys</h2>
      {error ? <Alert>{error}</Alert> : null}
      {notice ? <Alert kind="ok">{notice}</Alert> : null}
      {items && items.length > 0 ? (
        <ul class="plain" aria-label="Your passkeys">
          {items.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong> · added {when(p.createdAt)}
              {p.lastUsedAt ? ` · last used ${when(p.lastUsedAt)}` : ''}
              {p.unlock ? ' · unlocks your key' : ' · second factor only'}{' '}
              <button type="button" class="ghost" onClick={() => remove(p)} aria-label={`Remove passkey ${p.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">No passkeys yet.</p>
      )}
      {passkeysSupported() ? (
        <form onSubmit={add} aria-label="Add a passkey">
          <Field label="Passkey name" hint="So you can tell your passkeys apart, e.g. “work laptop”.">
            {(id, hint) => (
              <input
                id={id}
                required
                maxLength={64}
                aria-describedby={hint}
                value={name}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            )}
          </Field>
          <PasswordField label="Your password" value={password} onValue={setPassword} />
          <Busy
            type="submit"
            class="secondary"
            busy={busy}
            label="Add a passkey"
            busyLabel="Waiting for your authenticator…"
          />
        </form>
      ) : (
        <p class="hint">This browser does not support passkeys.</p>
      )}
    </section>
  );
}
