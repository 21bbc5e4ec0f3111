/**
 * @coffer/seal — seal a value in the customer's browser to the org's signed data key, so the
 * public ingest plane only ever sees a sealed blob. `connect` is the API; `errors` names every
 * refusal. The browser module (built by `coffer sdk build`) is browser.ts with the trust root
 * compiled in.
 */
export { type Accepted, type Coffer, type ConnectOptions, connect, type SealedSubmission } from './coffer.ts';
export { isSealError, SEAL_ERROR_CODES, SealError, type SealErrorCode } from './errors.ts';
