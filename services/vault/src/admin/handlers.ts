/**
 * Every handler of the admin contract, one group per area. The type makes a missing operation a
 * compile error: add the row to the table in @coffer/protocol, then its handler to its area here.
 */
import type postgres from 'postgres';
import type { AuditCheckpointer } from '../audit-checkpoints.ts';
import { auditHandlers } from './audit-api.ts';
import { bootstrapHandlers } from './bootstrap.ts';
import { enrolCodeHandlers } from './enrol-codes.ts';
import { exportHandlers } from './exports.ts';
import { keyHandlers } from './keys.ts';
import { ownSessionHandlers } from './own-sessions.ts';
import type { PasskeySettings } from './passkey-challenges.ts';
import { passkeyRegisterHandlers } from './passkey-register.ts';
import { passkeySigninHandlers } from './passkey-signin.ts';
import { peopleHandlers } from './people-list.ts';
import { recordHandlers } from './records.ts';
import { recoveryHandlers } from './recovery.ts';
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

/** `onKeysChanged` runs after a bootstrap or new data keys commit (the key status check). */
export function adminHandlers(
  sql: postgres.Sql,
  onKeysChanged: () => Promise<void>,
  checkpointer?: AuditCheckpointer,
  replyKey?: string,
  passkeys?: PasskeySettings,
): AdminHandlers {
  return {
    ...bootstrapHandlers(sql, onKeysChanged, replyKey),
    ...sessionHandlers(sql),
    ...recordHandlers(sql),
    ...revealDeliveryHandlers(sql),
    ...exportHandlers(sql),
    ...auditHandlers(sql, checkpointer),
    ...userHandlers(sql),
    ...totpHandlers(sql),
    ...enrolCodeHandlers(sql),
    ...peopleHandlers(sql),
    ...searchHandlers(sql),
    ...ownSessionHandlers(sql),
    ...sessionControlHandlers(sql),
    ...recoveryHandlers(sql),
    ...keyHandlers(sql, onKeysChanged),
    ...passkeyRegisterHandlers(sql, passkeys),
    ...passkeySigninHandlers(sql, passkeys),
    ...resealHandlers(sql, onKeysChanged),
    ...revocationHandlers(sql),
    ...vaultKeyHandlers(sql),
  };
}
