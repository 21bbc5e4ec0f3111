/**
 * Checking the vault's revocation list before wrapping anything (issue 15, item 2): against the
 * pinned trust root and the counter this admin plane remembers. A rollback — a list older than
 * one seen, none at all after one was seen, or one not signed by the org key — is refused loudly:
 * an alert in the log, a denial in the audit log, and a 409 problem; nothing is wrapped.
 */
import { callVault } from '@coffer/bus';
import type { RevocationEntry, RevocationList } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { checkRevocationList, nextRevocationList, RevocationListRefused, type SignedList } from '@coffer/keyring';
import type { KeysMaterial } from '@coffer/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps } from './routes/deps.ts';
import { originOf } from './session.ts';
import { withSessionHolder } from './session-holder.ts';

export type Checked = { ok: true; list: RevocationList | null } | { ok: false; sent: FastifyReply };

export async function checkedRevocations(
  deps: AdminDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  action: string,
  signed: SignedList | null | undefined,
): Promise<Checked> {
  let list: RevocationList | null;
  // What another admin replica saw counts here too (a throw when the bucket is unreachable: 503).
  await deps.revocationPin.refresh();
  try {
    list = checkRevocationList(deps.trustRoot, signed, deps.revocationPin.counter, deps.revocationPin.signed);
  } catch (err) {
    if (!(err instanceof RevocationListRefused)) throw err;
    req.log.error({ alert: 'revocation-list', remembered: deps.revocationPin.counter }, err.message);
    if (req.session) {
      await callVault(deps.bus, 'denied', {
        v: 1,
        session: req.session.hash,
        action,
        reason: `revocation list refused: ${err.message}`.slice(0, 200),
        origin: originOf(req),
      });
    }
    const sent = sendProblem(reply, {
      status: 409,
      type: 'revocation-list-rollback',
      title: "The vault's revocation list is missing, unsigned or older than one seen before; nothing was wrapped",
      detail: err.message,
    });
    return { ok: false, sent };
  }
  // A newer signed list (another admin replica stored it) moves the remembered counter on.
  if (list && signed) await deps.revocationPin.remember(list.counter, signed);
  return { ok: true, list };
}

export interface NextRevocations {
  /** The next signed list naming the entry; null when there is nothing to list. */
  readonly signed: { list: RevocationList; signature: string } | null;
  /** Whether the person could open data keys (an active, keyed viewer or key-admin): rotate. */
  readonly held: boolean;
  /** The end of the last data key's window before the change: the horizon a rotation keeps. */
  readonly lastNotAfter: string | null;
}

/**
 * Before a revocation or reset: fetch the keys material, check the stored list, and sign the next
 * one with `entryFor`'s entry added. Answers the problem itself and returns undefined on refusal.
 */
export async function nextRevocations(
  deps: AdminDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  action: string,
  entryFor: (m: KeysMaterial) => RevocationEntry | null,
): Promise<NextRevocations | undefined> {
  const m = await callVault(deps.bus, 'keys.material', { v: 1, session: req.session.hash });
  const checked = await checkedRevocations(deps, req, reply, action, m.revocations);
  if (!checked.ok) return undefined;
  const entry = entryFor(m);
  const held = entry !== null && m.recipients.some((r) => r.id === entry.userId);
  const signed = entry
    ? withSessionHolder(req.session.token, m.session, (holder) =>
        nextRevocationList(holder, m, checked.list, [entry], deps.now()),
      )
    : null;
  return { signed, held, lastNotAfter: m.lastNotAfter };
}
