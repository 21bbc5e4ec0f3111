/**
 * The portal's build: one hashed script and one hashed stylesheet in ../portal-dist, referenced from
 * index.html with Subresource Integrity (sha384), so that the strict CSP (script-src 'self', no
 * inline code) and SRI both hold. The password policy (dictionaries, most of the bytes) is a lazy
 * chunk whose integrity the entry carries (web/src/lazy.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const PLACEHOLDER = '__COFFER_CHUNK_INTEGRITY__';

function subresourceIntegrity(): Plugin {
  return {
    name: 'coffer-sri',
    apply: 'build',
    enforce: 'post',
    // After the files are written, on the bytes as written: later plugins cannot change them.
    writeBundle(options, bundle) {
      const dir = options.dir as string;
      const sri = (bytes: Buffer) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
      const files = Object.values(bundle);
      // Lazy chunks first: their integrity goes into the entry (see web/src/lazy.ts), whose own
      // integrity is then taken over its final bytes. '~' stands for '=' inside that string.
      const table = files
        .filter((f) => f.type === 'chunk' && !f.isEntry)
        .map((f) => `${f.fileName}=${sri(readFileSync(join(dir, f.fileName))).replaceAll('=', '~')}`);
      for (const f of files) {
        if (f.type !== 'chunk' || !f.isEntry) continue;
        const code = readFileSync(join(dir, f.fileName), 'utf8');
        if (!code.includes(PLACEHOLDER)) throw new Error('no integrity placeholder in the entry');
        writeFileSync(join(dir, f.fileName), code.replace(PLACEHOLDER, table.join(';')));
      }
      const htmlPath = join(dir, 'index.html');
      let html = readFileSync(htmlPath, 'utf8');
      for (const f of files) {
        if (f.fileName === 'index.html') continue;
        const integrity = sri(readFileSync(join(dir, f.fileName)));
        const ref = new RegExp(`(<(?:script|link)[^>]*(?:src|href)="/${f.fileName.replace(/\./g, '\\.')}")`, 'g');
        html = html.replace(ref, `$1 integrity="${integrity}"`);
      }
      if (/<(script|link)(?![^>]*integrity=)[^>]*(src|href)="\/assets\//.test(html)) {
        throw new Error('an asset in index.html has no integrity attribute');
      }
      writeFileSync(htmlPath, html);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  plugins: [subresourceIntegrity()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../portal-dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline data: URLs (img-src 'self' only) and no modulepreload polyfill (an inline script).
    assetsInlineLimit: 0,
    modulePreload: false,
    cssCodeSplit: false,
    // The lazy policy chunk is the password dictionaries: large by nature, and loaded only where needed.
    chunkSizeWarningLimit: 2048,
  },
});
