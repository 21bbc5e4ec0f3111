/**
 * `@coffer/admin/testing`: for tests and benchmarks, never for production code (the boundary check
 * refuses it there). The admin plane's unwrapping and CSV steps, which tests check and
 * bench/reveal.bench.ts times one by one. The stack that runs the admin plane against a real vault
 * lives in tests/support, the one package that may depend on several services.
 */
export { csvCell } from '../src/routes/exports.ts';
export { openRecord, RecordOpener, unwrapDataKey, unwrapUserKey } from '../src/unwrap.ts';
