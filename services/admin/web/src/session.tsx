/** The idle-timeout warning: two minutes before the vault would end the session, offer to stay. */
import { useEffect, useState } from 'preact/hooks';
import { api, lastSeen } from './api.ts';
import { duration } from './format.ts';
import { Dialog } from './ui.tsx';

const WARN_SECONDS = 120;

export function IdleWarning(props: { idleSeconds: number; onExpired: () => void }) {
  const [left, setLeft] = useState<number>(props.idleSeconds);
  useEffect(() => {
    const timer = setInterval(() => setLeft(props.idleSeconds - (Date.now() - lastSeen()) / 1000), 1000);
    return () => clearInterval(timer);
  }, [props.idleSeconds]);
  useEffect(() => {
    if (left <= 0) props.onExpired();
  }, [left <= 0]);
  if (left > WARN_SECONDS || left <= 0) return null;
  return (
    <Dialog title="Still there?" onClose={() => void api('GET', '/api/me').catch(() => {})}>
      <p>
        For your safety, your session ends after {Math.round(props.idleSeconds / 60)} idle minutes. It ends in{' '}
        <strong>{duration(left)}</strong>.
      </p>
      <div class="actions">
        <button type="button" onClick={() => void api('GET', '/api/me').catch(() => {})}>
          Stay signed in
        </button>
      </div>
    </Dialog>
  );
}
