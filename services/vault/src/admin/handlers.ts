/**
 * Every handler of the admin contract, one group per area. The type makes a missing operation a
 * compile error: add the row to the table in @coffer/protocol, then its handler to its area here.
 */
import type postgres from 'postgres';
import type { AuditCheckpointer } from '../audit-checkpoints.ts';
import { Decoys } from '../decoys.ts';
import type { Retention } from '../store-records.ts';
import { auditHandlers } from './audit-api.ts';
import { bootstrapHandlers } from './bootstrap.ts';
import { cosignHandlers, requireCosign } from './cosign.ts';
import { decoyHandlers } from './decoys.ts';
import { enrolCodeHandlers } from './enrol-codes.ts';
import { exportApprovalHandlers, requireExportApproval, type TwoPersonRules } from './export-approvals.ts';
import { exportHandlers } from './exports.ts';
import { keyHandlers } from './keys.ts';
import { orgConfigHandlers } from './org-config.ts';
import { ownSessionHandlers } from './own-sessions.ts';
import type { PasskeySettings } from './passkey-challenges.ts';
import { passkeyRegisterHandlers } from './passkey-register.ts';
import { passkeySigninHandlers } from './passkey-signin.ts';
import { peopleHandlers } from './people-list.ts';
import { recordHandlers } from './records.ts';
import { type RecoveryDelay, recoveryHandlers } from './recovery.ts';
import { cancelRecoveryHold, recoveryHoldHandlers } from './recovery-holds.ts';
import { recoveryReleaseNowHandlers } from './recovery-release-now.ts';
import { resealHandlers } from './reseal.ts';
import { revealDeliveryHandlers } from './reveal-delivery.ts';
import { revocationHandlers } from './revocations.ts';
import type { AdminHandlers } from './router.ts';
import { searchHandlers } from './search.ts';
import { sessionControlHandlers } from './session-control.ts';
import { sessionHandlers } from './sessions.ts';
import { totpHandlers } from './totp.ts';
import { userHandlers } from './users.ts';
import { vaultKeyHandlers } from './vault-key.ts';

/** Issue 16 items 3 and 4: decoy detection and the two-person rules (each off by default). */
export interface DetectionOptions {
  readonly decoys?: Decoys;
  readonly twoPerson?: TwoPersonRules;
  readonly retention?: Retention;
  /** issue 16 item 4c: the break-glass delay and how its alert goes out. */
  readonly recovery?: RecoveryDelay;
}

/** `onKeysChanged` runs after a bootstrap or new data keys commit (the key status check). */
export function adminHandlers(
  sql: postgres.Sql,
  onKeysChanged: () => Promise<void>,
  checkpointer?: AuditCheckpointer,
  replyKey?: string,
  passkeys?: PasskeySettings,
  detection: DetectionOptions = {},
): AdminHandlers {
  const decoys = detection.decoys ?? new Decoys(undefined);
  const rules = detection.twoPerson ?? {};
  const users = userHandlers(sql);
  const exports = exportHandlers(sql, decoys);
  return {
    ...bootstrapHandlers(sql, onKeysChanged, replyKey),
    ...sessionHandlers(sql),
    ...revealDeliveryHandlers(sql),
    ...recordHandlers(sql, decoys),
    ...exports,
    // issue 16 item 4a: a large export runs only on a second key-admin's approval.
    'export.begin': async (req, ctx) => {
      await requireExportApproval(sql, rules, req, ctx.caller, ctx.now);
      return exports['export.begin'](req, ctx);
    },
    ...exportApprovalHandlers(sql, rules),
    ...decoyHandlers(sql, decoys, detection.retention),
    ...cosignHandlers(sql),
    ...auditHandlers(sql, checkpointer),
    ...users,
    // issue 16 item 4b: a key-admin is confirmed only after a second key-admin co-signed their key.
    'users.confirm': async (req, ctx) => {
      await requireCosign(sql, rules, req.userId, ctx.caller);
      return users['users.confirm'](req, ctx);
    },
    ...totpHandlers(sql),
    ...enrolCodeHandlers(sql),
    ...peopleHandlers(sql),
    ...searchHandlers(sql),
    ...ownSessionHandlers(sql),
    ...sessionControlHandlers(sql),
    ...recoveryHandlers(sql, detection.recovery),
    ...recoveryHoldHandlers(sql),
    // issue 16 item 4c: k shares again plus the org key's approval release a held recovery now.
    ...recoveryReleaseNowHandlers(sql, detection.recovery ?? {}),
    // issue 16 item 4c: cancelling a waiting break-glass recovery revokes the recovered account.
    'recovery.cancel': async (req, ctx) => {
      await cancelRecoveryHold(sql, req.userId, ctx.caller, req.origin, ctx.now);
      return users['users.revoke'](req, ctx);
    },
    ...keyHandlers(sql, onKeysChanged),
    ...passkeyRegisterHandlers(sql, passkeys),
    ...passkeySigninHandlers(sql, passkeys),
    ...orgConfigHandlers(sql),
    ...resealHandlers(sql, onKeysChanged),
    ...revocationHandlers(sql),
    ...vaultKeyHandlers(sql),
  };
}
