/**
 * The client side of `coffer suite` (issue 15, item 1): a key-admin moves the org's new keys to
 * another suite through the admin plane (`POST /api/org/suite`, a configuration signed by the org
 * key through the session; a move back from X-Wing is refused there and by the vault), then, unless
 * told not to, rotates (`POST /api/keys/rotate`) so the current window and every later one are made
 * again in the new suite — what `coffer reseal --suite x25519` needs before it can move old records.
 */
import { type AdminSignIn, withAdminSession } from './admin-session.ts';

export interface SuiteChangeOptions extends AdminSignIn {
  readonly to: 'x25519' | 'xwing';
  /** Rotate after a change (default true); a run that changed nothing never rotates. */
  readonly rotate?: boolean;
}

export interface SuiteChangeResult {
  readonly suite: string;
  readonly from: string;
  readonly version: number;
  readonly changed: boolean;
  /** The keys the rotation made (their suites), or null when it did not rotate. */
  readonly rotated: { id: string; suite?: string }[] | null;
}

export async function runSuiteChange(o: SuiteChangeOptions): Promise<SuiteChangeResult> {
  return withAdminSession(o, async (post) => {
    const moved = await post<{ suite: string; from: string; version: number; changed: boolean }>('/api/org/suite', {
      suite: o.to,
    });
    const rotate = moved.changed && o.rotate !== false;
    const rotated = rotate ? (await post<{ items: { id: string; suite?: string }[] }>('/api/keys/rotate')).items : null;
    return { ...moved, rotated };
  });
}
