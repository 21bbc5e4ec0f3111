/**
 * The admin ↔ vault contract: every operation on `vault.admin.<op>` is one row of this table —
 * its request schema, its reply schema and its policy (who may call it). The client
 * (`callVault` in @coffer/bus) infers request and reply types from it and checks each reply; the
 * vault's router is typed over it, decodes each request once and applies the policy before the
 * handler runs. Adding an operation is one row in its area's file under `contract/` (with its
 * reply schema), one handler in the vault, one test; a new area is one more spread below.
 *
 * Every call made for a signed-in person carries `session`: hex SHA-256 of their session token,
 * never the token itself.
 */
import type { Static } from '@sinclair/typebox';
import { AuditContract } from './contract/audit.ts';
import { ExportsContract } from './contract/exports.ts';
import { KeysContract } from './contract/keys.ts';
import { PasskeyContract } from './contract/passkeys.ts';
import { RecordsContract } from './contract/records.ts';
import { RecoveryContract } from './contract/recovery.ts';
import { ResealContract } from './contract/reseal.ts';
import { SessionsContract } from './contract/sessions.ts';
import { SigninContract } from './contract/signin.ts';
import { TotpContract } from './contract/totp.ts';
import { UsersContract } from './contract/users.ts';

export type { ContractEntry, Policy } from './contract/rows.ts';

export const AdminContract = {
  ...SigninContract,
  ...RecordsContract,
  ...ExportsContract,
  ...AuditContract,
  ...UsersContract,
  ...SessionsContract,
  ...TotpContract,
  ...KeysContract,
  ...ResealContract,
  ...RecoveryContract,
  ...PasskeyContract,
} as const;

export type AdminOperation = keyof typeof AdminContract;
export type AdminRequest<Op extends AdminOperation> = Static<(typeof AdminContract)[Op]['request']>;
export type AdminResult<Op extends AdminOperation> = Static<(typeof AdminContract)[Op]['reply']>;
export type AdminPolicy<Op extends AdminOperation> = (typeof AdminContract)[Op]['policy'];
export const ADMIN_OPERATIONS = Object.keys(AdminContract) as AdminOperation[];

export function isAdminOperation(op: string): op is AdminOperation {
  return Object.hasOwn(AdminContract, op);
}
