/**
 * Build the browser module: one minified ES module with the trust root inside, named by its own
 * hash, with the Subresource Integrity value and the tag to paste. esbuild (already the workspace's
 * bundler underneath tsx) is enough for one entry point; its output is deterministic, so the same
 * source and trust root always give the same file name and SRI.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ENTRY = join(import.meta.dirname, 'browser.ts');
const TRUST_ROOT = /^[A-Za-z0-9_-]{43}$/;

function ingestUrl(raw: string | undefined): string {
  if (!raw) return '';
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname))) {
    throw new Error('the ingest URL must be https (http only for 127.0.0.1 or localhost)');
  }
  return url.origin;
}

export interface BuiltSdk {
  readonly fileName: string;
  readonly code: Uint8Array;
  /** `sha384-…`, for the integrity attribute. */
  readonly integrity: string;
  readonly trustRoot: string;
}

export function sriOf(code: Uint8Array): string {
  return `sha384-${createHash('sha384').update(code).digest('base64')}`;
}

/** The tag a customer page pastes; `src` is where the static origin serves the file. */
export function scriptTag(src: string, integrity: string): string {
  return `<script type="module" src="${src}" integrity="${integrity}" crossorigin="anonymous"></script>`;
}

export interface BuildOptions {
  /** The org public key (base64url) every data key bundle must be signed by. */
  readonly trustRoot: string;
  /** Build the ingest URL in too, and expose a ready `coffer` global. */
  readonly ingest?: string;
}

export async function buildSdk(options: BuildOptions): Promise<BuiltSdk> {
  const { trustRoot } = options;
  // A 32-byte key in canonical base64url is 43 characters; checked here so a typo fails the build,
  // not every customer's first seal.
  if (!TRUST_ROOT.test(trustRoot) || Buffer.from(trustRoot, 'base64url').toString('base64url') !== trustRoot) {
    throw new Error('the trust root must be the org public key: 32 bytes in base64url (43 characters)');
  }
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'eof',
    define: {
      __COFFER_TRUST_ROOT__: JSON.stringify(trustRoot),
      __COFFER_INGEST__: JSON.stringify(ingestUrl(options.ingest)),
    },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents;
  if (!code) throw new Error('esbuild produced no output');
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  return { fileName: `coffer-seal.${hash}.js`, code, integrity: sriOf(code), trustRoot };
}

/** Build and write into `outDir`; returns what was written. */
export async function writeSdk(options: BuildOptions, outDir: string): Promise<BuiltSdk & { path: string }> {
  const built = await buildSdk(options);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, built.fileName);
  writeFileSync(path, built.code);
  return { ...built, path };
}
