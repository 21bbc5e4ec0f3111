/**
 * The client side of `coffer reseal` (issue 15, item 3): sign in to the admin plane as a key-admin
 * (password, and a TOTP code where MFA is required), begin or resume a run for the chosen data
 * keys (by id, or every key of a suite), and step through it at most `ratePerSecond` records a second until no record is left and
 * the vault has destroyed the old keys. Interrupted, it is simply run again: the run resumes.
 */
import { type AdminSignIn, withAdminSession } from './admin-session.ts';

export interface ResealOptions extends AdminSignIn {
  readonly keyIds?: readonly string[];
  /** Also every record under a key of this suite: `x25519` after moving the org to X-Wing. */
  readonly suite?: 'x25519' | 'xwing';
  /** Records a second at most (the load on the vault and the admin plane); default 200. */
  readonly ratePerSecond?: number;
  /** Records per step (1–500); default 200. */
  readonly batch?: number;
  readonly progress?: (line: string) => void;
}

export interface ResealResult {
  readonly runId: string;
  readonly moved: number;
  readonly destroyedKeys: number;
}

interface Step {
  moved: number;
  remaining: number;
  done: boolean;
  destroyedKeys: number;
}

export async function runReseal(o: ResealOptions): Promise<ResealResult> {
  return withAdminSession(o, async (post) => {
    const run = await post<{ runId: string; remaining: number }>('/api/reseal', {
      keyIds: o.keyIds ?? [],
      ...(o.suite ? { suite: o.suite } : {}),
    });
    o.progress?.(`run ${run.runId}: ${run.remaining} records to re-seal`);
    const rate = o.ratePerSecond ?? 200;
    let moved = 0;
    for (;;) {
      const started = Date.now();
      const step = await post<Step>(`/api/reseal/${run.runId}/step`, { limit: o.batch ?? 200 });
      moved += step.moved;
      o.progress?.(`moved ${moved}, ${step.remaining} left`);
      if (step.done) return { runId: run.runId, moved, destroyedKeys: step.destroyedKeys };
      // The rate limit: this batch may take no less than its share of a second.
      const wait = (step.moved / rate) * 1000 - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  });
}
