// A throw-away internal PKI for tests, made by the same code as `coffer pki` (init, issue).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { caFiles, createRootCa, issueLeaf, type LeafRequest, leafFiles, writeCa, writeLeaf } from '@coffer/cli';

export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  /** cert/key paths of an issued identity. */
  files(name: string): { cert: string; key: string };
  issue(request: Omit<LeafRequest, 'days'> & { days?: number }): Promise<{ cert: string; key: string }>;
  remove(): Promise<void>;
}

export async function makeTestPki(label = 'coffer-pki-'): Promise<TestPki> {
  const base = await mkdtemp(path.join(os.tmpdir(), label));
  const dir = path.join(base, 'pki');
  const ca = await createRootCa({ name: `Coffer test CA ${path.basename(base)}`, days: 30 });
  await writeCa(dir, ca);
  const files = (name: string) => {
    const f = leafFiles(dir, name);
    return { cert: f.cert, key: f.key };
  };
  return {
    dir,
    ca: caFiles(dir).cert,
    files,
    async issue(request) {
      const full: LeafRequest = { days: 7, ...request };
      await writeLeaf(dir, full, await issueLeaf(ca, full));
      return files(request.name);
    },
    remove: () => rm(base, { recursive: true, force: true }),
  };
}
