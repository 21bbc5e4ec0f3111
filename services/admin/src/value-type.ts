/**
 * Whether an opened record is what its type says: well-formed UTF-8 that passes ingest's own rules
 * and is already in their normal form. Ingest guarantees this for the values it sealed; for values
 * sealed by the submitter (browser SDK, @coffer/client) nobody could check before a person opens it.
 */
import { checkValue, type RecordType } from '@coffer/protocol';

const strict = new TextDecoder('utf-8', { fatal: true });

export function valueMatchesType(type: string, plaintext: Uint8Array, decoded: string): boolean {
  try {
    strict.decode(plaintext);
  } catch {
    return false;
  }
  const check = checkValue(type as RecordType, decoded);
  return check.ok && check.normalized === decoded;
}
