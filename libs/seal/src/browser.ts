/**
 * Entry of the browser module. `coffer sdk build` replaces __COFFER_TRUST_ROOT__ with the org's
 * trust root, so the key a bundle must be signed by is part of the file the page pins with SRI:
 * the page chooses the ingest URL, never the key.
 */
import { type Coffer, connect as connectWith } from './coffer.ts';

declare const __COFFER_TRUST_ROOT__: string;

export const trustRoot: string = __COFFER_TRUST_ROOT__;

/** `const coffer = connect('https://ingest.example.com'); await coffer.seal({ type, value })` */
export function connect(ingest: string): Coffer {
  return connectWith({ ingest, trustRoot });
}

export { isSealError, SEAL_ERROR_CODES, SealError } from './errors.ts';
