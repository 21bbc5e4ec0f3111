/**
 * Integrity of what the admin plane asks of the vault across the bus (issue 9, item 2). The bus
 * carries every admin request in the clear of any signature but the password proof; these checks
 * make that proof cover the whole request and refuse what no honest admin plane sends.
 */
import { adminRequestDigest, checkPasswordProof, isVerifierStale, parseVerifier } from '@coffer/crypto';
import { AdminError } from './router.ts';

/**
 * The digest of the request exactly as the vault received it (all fields, `proof` left out): the
 * password proof must sign this, so a field a bus added, dropped or changed breaks it. The router
 * decodes a request once and hands it on unchanged, so the decoded object is the received JSON.
 */
export function receivedRequestDigest(operation: string, request: object): string {
  return adminRequestDigest(operation, request as Record<string, unknown>);
}

/**
 * Refuses (unauthenticated) unless the admin plane proved the password: `proof` is the stored
 * verifier's signature over this challenge, `context` and the digest of the whole request as
 * received (issue 9 item 2), so a proof seen on the bus fits no other request.
 */
export function requirePasswordProof(
  verifier: string | null | undefined,
  challenge: { id: string; nonce: string },
  operation: string,
  req: { readonly proof: string },
  context: readonly string[],
  refusal = 'no proof of the password',
): asserts verifier is string {
  if (
    !verifier ||
    !checkPasswordProof(verifier, challenge, [...context, receivedRequestDigest(operation, req)], req.proof)
  )
    throw new AdminError('unauthenticated', refusal);
}

/**
 * A rehash is taken only when the stored verifier is stale against the parameters the new one
 * was made with, and the new one is nowhere weaker: an ordinary sign-in cannot carry one.
 */
export function requireStaleForRehash(stored: string, rehashVerifier: string): void {
  let fresh: ReturnType<typeof parseVerifier>;
  try {
    fresh = parseVerifier(rehashVerifier);
  } catch {
    throw new AdminError('bad-request', 'the new verifier is not well-formed');
  }
  const storedParams = parseVerifier(stored).params;
  if (!isVerifierStale(stored, fresh.params) || isVerifierStale(rehashVerifier, storedParams)) {
    throw new AdminError('bad-request', 'a rehash is accepted only for a verifier with stale parameters');
  }
}
