/**
 * A sealed record ready to publish: reused as-is when a client retries with its Idempotency-Key.
 * A module of its own, so that the route, its deps and the shared idempotency claim all use it
 * without importing each other.
 */
export interface PreparedRecord {
  readonly id: string;
  readonly message: Uint8Array;
  readonly answer: { id: string; type: string; hint: string | null; keyId: string };
}
