import { decodeJson, KeyBundleReply } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, insertDataKey, type VaultDatabase } from '../testing/vault-database.ts';
import { CurrentKey } from './current-key.ts';

const available = await postgresAvailable();
const DAY = 86_400_000;

describe.skipIf(!available)('keys.current', () => {
  let db: VaultDatabase;
  const t0 = new Date('2027-01-01T00:00:00.000Z');
  let first: string;
  let second: string;
  beforeAll(async () => {
    db = await createVaultDatabase();
    first = (await insertDataKey(db.owner, t0, new Date(t0.getTime() + 90 * DAY))).bundle.id;
    second = (await insertDataKey(db.owner, new Date(t0.getTime() + 90 * DAY), new Date(t0.getTime() + 180 * DAY)))
      .bundle.id;
  });
  afterAll(() => db?.drop());

  const replyAt = async (at: Date) => {
    const current = new CurrentKey(db.runtime, () => at);
    const reply = decodeJson(KeyBundleReply, await current.reply());
    return { current, reply };
  };

  it('answers with the key whose window covers now, across a boundary', async () => {
    expect((await replyAt(new Date(t0.getTime() + DAY))).reply).toMatchObject({ bundle: { id: first } });
    expect((await replyAt(new Date(t0.getTime() + 90 * DAY - 1))).reply).toMatchObject({ bundle: { id: first } });
    expect((await replyAt(new Date(t0.getTime() + 90 * DAY))).reply).toMatchObject({ bundle: { id: second } });
    const { current } = await replyAt(new Date(t0.getTime() + 100 * DAY));
    expect(await current.check()).toEqual({ degraded: false, keyId: second, reason: null, horizonDays: 80 });
  });

  it('with none covering now, serves the newest, reports degraded, and audits it once a day', async () => {
    const late = new Date(t0.getTime() + 200 * DAY);
    const { current, reply } = await replyAt(late);
    expect(reply).toMatchObject({ bundle: { id: second } });
    expect(await current.check()).toMatchObject({ degraded: true, keyId: second });
    await current.check();
    const events = async () =>
      (await db.runtime`SELECT at FROM audit_events WHERE action = 'data-key.degraded'`).length;
    expect(await events()).toBe(1);
    const nextDay = new CurrentKey(db.runtime, () => new Date(late.getTime() + DAY + 1));
    await nextDay.check();
    expect(await events()).toBe(2);
  });
});
