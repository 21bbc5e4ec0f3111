/** Who is calling an admin operation: the live session the policy gate found, and its user. */
import type { Role, UserStatus } from '@coffer/protocol';

export interface Caller {
  readonly sessionId: string;
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  readonly status: UserStatus;
  readonly wrappedKey: Buffer;
  /** Whether this session was opened with a TOTP code. */
  readonly mfa: boolean;
  /** Whether this session was opened with a passkey. */
  readonly passkey: boolean;
  /** Whether the user has TOTP enrolled. */
  readonly totp: boolean;
}
