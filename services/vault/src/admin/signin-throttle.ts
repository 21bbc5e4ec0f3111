/**
 * Which bucket a sign-in attempt counts against (issue 9, item 7). The user lookup folds case in
 * PostgreSQL (`lower()`), which is not JavaScript's `toLowerCase`: `vİctim@…` finds `victim@…` but
 * hashed as typed it landed in its own bucket, so spelling variants outran the lockout. When the
 * email names a user, the attempt counts against that user, however it was spelled; unknown
 * emails count against the email as typed, lower-cased (they lock exactly like known ones).
 */
import { createHash } from 'node:crypto';

export function throttleKey(email: string, userId: string | undefined): string {
  const key = userId === undefined ? email.toLowerCase() : `coffer/throttle/user\u0000${userId}`;
  return createHash('sha256').update(key).digest('hex');
}
