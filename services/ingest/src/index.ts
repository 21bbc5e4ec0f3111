/** What other packages (`pnpm dev`, cross-service tests) may use of ingest. */
export { buildIngest, type IngestOptions } from './app.ts';
export { DataKeySource } from './data-key.ts';
export { ingestLogger } from './log.ts';
