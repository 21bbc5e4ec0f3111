import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPENAPI_DIR, openApiDocuments } from './openapi.ts';

describe('the committed OpenAPI documents', () => {
  it('match what ingest and admin serve at /openapi.json (run `pnpm openapi` after changing a route)', async () => {
    const served = await openApiDocuments();
    for (const [plane, document] of Object.entries(served)) {
      const committed: unknown = JSON.parse(readFileSync(join(OPENAPI_DIR, `${plane}.json`), 'utf8'));
      expect(document, `docs/openapi/${plane}.json is stale`).toEqual(committed);
    }
  });

  it('are OpenAPI 3.1 and describe the API routes, not the portal', async () => {
    const { admin, ingest } = (await openApiDocuments()) as Record<
      string,
      { openapi: string; paths: Record<string, Record<string, { security?: unknown }>> }
    >;
    expect(admin?.openapi).toBe('3.1.0');
    expect(ingest?.openapi).toBe('3.1.0');
    expect(Object.keys(ingest?.paths ?? {})).toContain('/v1/records');
    expect(Object.keys(admin?.paths ?? {})).toEqual(
      expect.arrayContaining(['/api/session', '/api/records/{id}/reveal']),
    );
    expect(Object.keys(admin?.paths ?? {})).not.toContain('/');
    expect(admin?.paths['/api/records/{id}/reveal']?.post?.security).toEqual([{ session: [], csrf: [] }]);
    expect(admin?.paths['/api/records']?.get?.security).toEqual([{ session: [] }]);
    expect(admin?.paths['/api/session']?.post?.security).toBeUndefined();
  });
});
