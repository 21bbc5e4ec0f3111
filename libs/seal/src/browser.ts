/**
 * Entry of the browser module. `coffer sdk build` replaces __COFFER_TRUST_ROOT__ with the org's
 * trust root (and __COFFER_INGEST__ with the ingest URL, when given), so the key a bundle must be
 * signed by is part of the very file the page pins with SRI.
 *
 * Loaded by `<script type="module" src=… integrity=… crossorigin>`, it exports nothing a tag could
 * reach, so it also sets `globalThis.Coffer` ({ connect, SealError, trustRoot }) and, when the ingest
 * URL was built in, `globalThis.coffer` ready to use: `await coffer.seal({ type, value })`. Module
 * scripts run in document order, so a page's own module script after the tag sees both.
 */
import { type Coffer, connect as connectWith } from './coffer.ts';
import { isSealError, SealError } from './errors.ts';

declare const __COFFER_TRUST_ROOT__: string;
declare const __COFFER_INGEST__: string;

export const trustRoot: string = __COFFER_TRUST_ROOT__;

/** A client for `ingest` that trusts only the compiled-in root. */
export function connect(ingest: string): Coffer {
  return connectWith({ ingest, trustRoot });
}

export { isSealError, SealError };

const api = Object.freeze({ connect, SealError, isSealError, trustRoot });
Object.defineProperty(globalThis, 'Coffer', { value: api, enumerable: false, writable: false });
if (__COFFER_INGEST__) {
  Object.defineProperty(globalThis, 'coffer', { value: connect(__COFFER_INGEST__), writable: false });
}
