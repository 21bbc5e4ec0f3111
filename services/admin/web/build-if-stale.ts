/**
 * Vitest global setup: build the portal when portal-dist/ is missing or older than its sources, so
 * that `pnpm test` works on a fresh clone and after an edit. A current build costs one directory walk.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('.', import.meta.url));
const OUT = join(WEB, '..', 'portal-dist', 'index.html');
const SOURCES = [WEB, join(WEB, '..', '..', '..', 'libs', 'policy', 'src')];

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export default async function setup(): Promise<void> {
  const built = existsSync(OUT) ? statSync(OUT).mtimeMs : 0;
  if (built >= Math.max(...SOURCES.map(newest))) return;
  const { build } = await import('vite');
  await build({ configFile: join(WEB, 'vite.config.ts') });
}
