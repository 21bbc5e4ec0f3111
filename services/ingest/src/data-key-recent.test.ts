/** A submission sealed just before a window change names the key that just ended: accepted for a while. */
import { Writable } from 'node:stream';
import { InProcessBus } from '@coffer/bus';
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import { encodeJson, newRecordId } from '@coffer/protocol';
import { describe, expect, it } from 'vitest';
import { DataKeySource } from './data-key.ts';
import { ingestLogger } from './log.ts';

const org = PrivateKey.generate('ed25519');
const t0 = Date.parse('2026-12-01T00:00:00.000Z');

/** A data-key bundle for [from, to), signed by org. */
function bundleFor(from: number, to: number) {
  const bundle = {
    id: newRecordId(),
    publicKey: PrivateKey.generate('x25519').publicKey.toBase64url(),
    notBefore: new Date(from).toISOString(),
    notAfter: new Date(to).toISOString(),
  };
  return { v: 1, bundle, signature: signDataKeyBundle(org, bundle) };
}

/** A quiet DataKeySource over a bus serving whatever serving() returns, on the clock now(). */
function keySource(serving: () => unknown, now: () => number) {
  const bus = new InProcessBus();
  bus.serve(bus.names.keysCurrent, async () => encodeJson(serving()));
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  return { bus, keys: new DataKeySource(bus, org.publicKey, ingestLogger(quiet), () => new Date(now())) };
}

describe('DataKeySource.recent', () => {
  it('knows the current key and the one before it until its grace ends, nothing else', async () => {
    const first = bundleFor(t0, t0 + 60_000);
    const second = bundleFor(t0 + 60_000, t0 + 120_000);
    let serving = first;
    let now = t0 + 1000;
    const { bus, keys } = keySource(
      () => serving,
      () => now,
    );
    await keys.refresh();
    expect(keys.recent(first.bundle.id, 5000)?.id).toBe(first.bundle.id);
    expect(keys.recent(second.bundle.id, 5000)).toBeUndefined();

    now = t0 + 61_000;
    serving = second;
    await keys.refresh();
    expect(keys.recent(second.bundle.id, 5000)?.id).toBe(second.bundle.id);
    expect(keys.recent(first.bundle.id, 5000)?.id).toBe(first.bundle.id); // ended 1 s ago
    now = t0 + 66_000;
    expect(keys.recent(first.bundle.id, 5000)).toBeUndefined(); // past the grace
    expect(keys.recent('no-such-key', 5000)).toBeUndefined();
    await bus.close();
  });

  it('gives no grace to a key a rotation superseded before its window ended (issue 15)', async () => {
    const old = bundleFor(t0, t0 + 90 * 86_400_000);
    const fresh = bundleFor(t0 + 10_000, t0 + 90 * 86_400_000);
    let serving = old;
    let now = t0 + 1000;
    const { bus, keys } = keySource(
      () => serving,
      () => now,
    );
    await keys.refresh();
    now = t0 + 11_000;
    serving = fresh;
    await keys.refresh();
    expect(keys.current()?.id).toBe(fresh.bundle.id);
    expect(keys.recent(fresh.bundle.id, 300_000)?.id).toBe(fresh.bundle.id);
    expect(keys.recent(old.bundle.id, 300_000)).toBeUndefined();
    await bus.close();
  });
});
