/** Me → Passkeys: register one (it asks for the password once), list them, remove one. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { InputField } from '../fields.tsx';
import { when } from '../format.ts';
import { useAction, useList } from '../hooks.ts';
import { addPasskey, passkeysSupported } from '../passkey.ts';
import { Busy, errorText, Outcome, PasswordField } from '../ui.tsx';

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  unlock: boolean;
}

function PasskeyList(props: { items: Passkey[] | null; onRemove: (p: Passkey) => void }) {
  const { items } = props;
  if (!items || items.length === 0) return <p class="hint">No passkeys yet.</p>;
  return (
    <ul class="plain" aria-label="Your passkeys">
      {items.map((p) => (
        <li key={p.id}>
          <strong>{p.name}</strong> · added {when(p.createdAt)}
          {p.lastUsedAt ? ` · last used ${when(p.lastUsedAt)}` : ''}
          {p.unlock ? ' · unlocks your key' : ' · second factor only'}{' '}
          <button type="button" class="ghost" onClick={() => props.onRemove(p)} aria-label={`Remove passkey ${p.name}`}>
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}

type Action = ReturnType<typeof useAction>;

function AddPasskeyForm(props: {
  action: Action;
  notify: (notice: string | null) => void;
  onAdded: () => Promise<void>;
}) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const add = (e: Event) => {
    e.preventDefault();
    props.notify(null);
    return props.action.run(
      async () => {
        const added = await addPasskey(name, password);
        setPassword('');
        setName('');
        props.notify(
          added.unlock
            ? 'Passkey added. You can now sign in with it alone.'
            : 'Passkey added as a second factor only: this authenticator cannot unlock your key.',
        );
        await props.onAdded();
      },
      {
        key: 'add',
        fail: (err) => {
          setPassword('');
          return errorText(err);
        },
      },
    );
  };
  return (
    <form onSubmit={add} aria-label="Add a passkey">
      <InputField
        label="Passkey name"
        hint="So you can tell your passkeys apart, e.g. “work laptop”."
        required
        maxLength={64}
        value={name}
        onValue={setName}
      />
      <PasswordField label="Your password" value={password} onValue={setPassword} />
      <Busy
        type="submit"
        class="secondary"
        busy={props.action.pending === 'add'}
        label="Add a passkey"
        busyLabel="Waiting for your authenticator…"
      />
    </form>
  );
}

export function PasskeysCard() {
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const { error, run } = action;
  const { items, load } = useList<Passkey>('/api/me/passkeys', action.setError);
  const remove = (p: Passkey) =>
    run(async () => {
      await api('DELETE', `/api/me/passkeys/${encodeURIComponent(p.id)}`);
      setNotice(`Passkey “${p.name}” removed.`);
      await load();
    });
  return (
    <section class="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">Passkeys</h2>
      <Outcome error={error} notice={notice} />
      <PasskeyList items={items} onRemove={remove} />
      {passkeysSupported() ? (
        <AddPasskeyForm action={action} notify={setNotice} onAdded={load} />
      ) : (
        <p class="hint">This browser does not support passkeys.</p>
      )}
    </section>
  );
}
