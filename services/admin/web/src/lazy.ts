/**
 * Loading the password policy (its dictionaries are most of the code) only on the pages with a
 * strength meter. Subresource Integrity for a dynamic import: the build writes each lazy chunk's
 * sha384 into CHUNK_INTEGRITY, and a <link rel=modulepreload integrity=…> goes in before the
 * import(), so the browser fetches the chunk once, checked, and import() takes that copy.
 */
const CHUNK_INTEGRITY = '__COFFER_CHUNK_INTEGRITY__';

let policy: Promise<typeof import('./policy-chunk.ts')> | undefined;

function preloadChecked(): void {
  for (const entry of CHUNK_INTEGRITY.split(';')) {
    const [file, integrity] = entry.split('=', 2) as [string, string | undefined];
    if (!integrity || document.querySelector(`link[href="/${file}"]`)) continue;
    const link = document.createElement('link');
    link.rel = 'modulepreload';
    link.href = `/${file}`;
    link.integrity = integrity.replaceAll('~', '=');
    link.crossOrigin = 'anonymous';
    document.head.append(link);
  }
}

export function loadPolicy(): Promise<typeof import('./policy-chunk.ts')> {
  if (!policy) {
    preloadChecked();
    policy = import('./policy-chunk.ts');
  }
  return policy;
}
