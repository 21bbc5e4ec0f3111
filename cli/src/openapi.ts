/**
 * The OpenAPI 3.1 documents of ingest and admin, as the running services serve them at
 * /openapi.json, built from the route schemas. `pnpm openapi` writes them to docs/openapi/;
 * openapi.test.ts fails when the committed files drift from the routes.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAdmin } from '@coffer/admin';
import { InProcessBus } from '@coffer/bus';
import { PrivateKey } from '@coffer/crypto';
import { buildIngest } from '@coffer/ingest';
import pino from 'pino';

export const OPENAPI_DIR = join(import.meta.dirname, '..', '..', 'docs', 'openapi');

/** Each plane's document, fetched from /openapi.json of an app built as main.ts builds it. */
export async function openApiDocuments(): Promise<Record<'ingest' | 'admin', unknown>> {
  const bus = new InProcessBus();
  const trustRoot = PrivateKey.generate('ed25519').publicKey;
  const log = pino({ level: 'silent' });
  const ingest = await buildIngest({ bus, trustRoot, log, ratePerMinute: 60 });
  const admin = await buildAdmin({ bus, trustRoot, log });
  try {
    const fetch = async (app: typeof admin) => (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    return { ingest: await fetch(ingest.app), admin: await fetch(admin) };
  } finally {
    await ingest.app.close();
    await admin.close();
    await bus.close();
  }
}

if (process.argv[1] === import.meta.filename) {
  const written = [];
  for (const [plane, document] of Object.entries(await openApiDocuments())) {
    written.push(join(OPENAPI_DIR, `${plane}.json`));
    writeFileSync(join(OPENAPI_DIR, `${plane}.json`), JSON.stringify(document));
  }
  // Laid out as the repository's formatter lays out JSON, so that `pnpm lint` passes as written.
  execFileSync('pnpm', ['exec', 'biome', 'format', '--write', ...written], { stdio: 'inherit' });
}
