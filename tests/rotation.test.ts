/**
 * Rotation across a cryptoperiod boundary, with one clock for every plane: records submitted
 * before the boundary seal to the old data key, records after it to the new one, and both open.
 */
import type { Planes } from '@coffer/cli';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessPlanes, KA_EMAIL, KA_PASSWORD, startInProcessPlanes } from './support/in-process-planes.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const DAY = 86_400_000;

describe.skipIf(!available)('data key rotation across a boundary', () => {
  let db: VaultDatabase;
  let t: InProcessPlanes;
  let planes: Planes;
  let offset = 0;
  const now = () => new Date(Date.now() + offset);

  beforeAll(async () => {
    t = await startInProcessPlanes({ suite: 'x25519', dataKeyDays: 90, horizonDays: 180, now });
    ({ db, planes } = t);
  });
  afterAll(() => t?.close());

  const submit = (value: string) => t.submit(value);
  // Bounded polls end as soon as their answer is there; their bounds (30 s) are for a loaded
  // machine, where 5 s for a record to be stored and 3 s for ingest's key refresh were little.
  const stored = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      if ((await db.owner`SELECT 1 FROM records WHERE id = ${id}`).length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`record ${id} was not stored`);
  };

  it('seals to the next key after the boundary, and opens records of both', async () => {
    const before = await submit('sealed in the first period');
    offset += 91 * DAY;
    // Ingest notices the window's end at its next refresh; ask it now instead of waiting a minute.
    const afterBoundary = await (async () => {
      for (let i = 0; i < 300; i++) {
        const r = await fetch(`${planes.ingestUrl}/v1/records`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'secret', value: 'sealed in the second period' }),
        });
        if (r.status === 202) return (await r.json()) as { id: string; keyId: string };
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('ingest never took the next key');
    })();
    expect(afterBoundary.keyId).not.toBe(before.keyId);
    await stored(before.id);
    await stored(afterBoundary.id);

    const adminUrl = planes.adminUrl as string;
    const signin = await fetch(`${adminUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: KA_EMAIL, password: KA_PASSWORD }),
    });
    const cookie = (signin.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrf } = (await signin.json()) as { csrf: string };
    for (const [id, value] of [
      [before.id, 'sealed in the first period'],
      [afterBoundary.id, 'sealed in the second period'],
    ] as const) {
      const res = await fetch(`${adminUrl}/api/records/${id}/reveal`, {
        method: 'POST',
        headers: { cookie, 'x-coffer-csrf': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'rotation test' }),
      });
      expect(await res.json()).toMatchObject({ id, value });
    }

    // A viewer confirmed after the boundary receives every existing data key, so records of the
    // ended period stay readable to them.
    const api = (path: string, body: unknown, who = { cookie, csrf }) =>
      fetch(`${adminUrl}${path}`, {
        method: 'POST',
        headers: { cookie: who.cookie, 'x-coffer-csrf': who.csrf, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const invite = (await (await api('/api/users', { email: 'late.viewer@example.com', role: 'viewer' })).json()) as {
      id: string;
      inviteToken: string;
    };
    const viewerPassword = 'violet-harbour-compass-7342-quietly';
    const accepted = (await (
      await api(
        '/api/invites/accept',
        { token: invite.inviteToken, password: viewerPassword },
        { cookie: '', csrf: '' },
      )
    ).json()) as { fingerprint: string };
    const confirmed = await api(`/api/users/${invite.id}/confirm`, { fingerprint: accepted.fingerprint });
    expect(await confirmed.json()).toMatchObject({ wrappedKeys: 2, role: 'viewer' });
    const viewerSignin = await api(
      '/api/session',
      { email: 'late.viewer@example.com', password: viewerPassword },
      { cookie: '', csrf: '' },
    );
    const viewer = {
      cookie: (viewerSignin.headers.get('set-cookie') ?? '').split(';')[0] as string,
      csrf: ((await viewerSignin.json()) as { csrf: string }).csrf,
    };
    const old = await api(`/api/records/${before.id}/reveal`, { reason: 'late viewer, old period' }, viewer);
    expect(await old.json()).toMatchObject({ value: 'sealed in the first period' });
  });
});
