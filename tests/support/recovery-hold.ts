/**
 * What the break-glass delay tests (tests/admin/recovery-delay.test.ts, recovery-release-now.test.ts)
 * share: a stack with recovery delayed an hour, every `alerts.recovery` message it publishes
 * (each checked as a version-1 AlertMessage), one stored record and the first key-admin signed in;
 * a recovery run with the first shares; and a bounded wait for an alert.
 */
import { runRecovery } from '@coffer/cli';
import { AlertMessage, checkJson } from '@coffer/protocol';
import { connect } from '@nats-io/transport-node';
import { type AdminStack, type Signed, signIn, startAdminStack } from './admin-stack.ts';

export const RECOVERED_PASSWORD = 'saffron-quarry-meridian-6620-slowly';

export interface DelayedRecovery {
  readonly stack: AdminStack;
  readonly admin: Signed;
  readonly recordId: string;
  readonly alerts: Record<string, unknown>[];
  /** `coffer recover` for a new key-admin with the ceremony's first two shares. */
  recover(email: string): ReturnType<typeof runRecovery>;
  /** How many wrapped keys a user holds. */
  keysOf(userId: string): Promise<number>;
  close(): Promise<void>;
}

export async function startDelayedRecovery(options: { vaultJanitor?: boolean } = {}): Promise<DelayedRecovery> {
  const stack = await startAdminStack({ twoPerson: { recoveryDelayMinutes: 60 }, ...options });
  const alerts: Record<string, unknown>[] = [];
  const nc = await connect({ servers: stack.natsUrl });
  nc.subscribe(`${stack.names.alerts}.recovery`, {
    callback: (_err, msg) => {
      alerts.push(checkJson(AlertMessage, msg.json()));
    },
  });
  await nc.flush();
  const recordId = await stack.addRecord('ssn', '078-05-1120');
  const admin = await signIn(stack.app);
  return {
    stack,
    admin,
    recordId,
    alerts,
    recover: (email) =>
      runRecovery({
        bus: stack.adminBus,
        shares: stack.ceremony.shares.slice(0, 2) as string[],
        email,
        password: RECOVERED_PASSWORD,
        trustRoot: stack.ceremony.trustRoot,
      }),
    keysOf: async (userId) =>
      Number((await stack.db.owner`SELECT count(*) AS n FROM wrapped_keys WHERE recipient_id = ${userId}`)[0]?.n),
    async close() {
      await nc.close();
      await stack.close();
    },
  };
}

// 600 tries of 50 ms (30 s): the alert crosses the bus; 5 s was tight on a loaded machine.
export async function poll<T>(probe: () => T | undefined, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gave up waiting');
}
