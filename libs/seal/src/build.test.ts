import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { buildSdk, scriptTag, writeSdk } from './build.ts';

describe('coffer sdk build', () => {
  const root = PrivateKey.generate('ed25519').publicKey.toBase64url();

  it('writes one module with the trust root inside, named by its hash, with its sha384 SRI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-sdk-'));
    const built = await writeSdk({ trustRoot: root, ingest: 'https://ingest.example.com/' }, dir);
    const bytes = readFileSync(built.path);
    expect(built.fileName).toMatch(/^coffer-seal\.[0-9a-f]{16}\.js$/);
    expect(built.integrity).toBe(`sha384-${createHash('sha384').update(bytes).digest('base64')}`);
    const text = bytes.toString();
    expect(text).toContain(JSON.stringify(root));
    expect(text).toContain('"https://ingest.example.com"');
    expect(text).not.toMatch(/__COFFER_/);
    expect(scriptTag(built.fileName, built.integrity)).toBe(
      `<script type="module" src="${built.fileName}" integrity="${built.integrity}" crossorigin="anonymous"></script>`,
    );
  });

  it('is deterministic per trust root, and another root gives another file', async () => {
    const a = await buildSdk({ trustRoot: root });
    const b = await buildSdk({ trustRoot: root });
    const other = await buildSdk({ trustRoot: PrivateKey.generate('ed25519').publicKey.toBase64url() });
    expect(b.integrity).toBe(a.integrity);
    expect(b.fileName).toBe(a.fileName);
    expect(other.integrity).not.toBe(a.integrity);
  });

  it.each([
    ['a short key', 'abc'],
    ['non-canonical base64url', `${root.slice(0, 42)}_`],
    ['standard base64', `${root.slice(0, 42)}+`],
  ])('refuses %s as the trust root', async (_name, trustRoot) => {
    await expect(buildSdk({ trustRoot })).rejects.toThrow(/trust root/);
  });

  it('refuses a plain-http ingest URL other than loopback', async () => {
    await expect(buildSdk({ trustRoot: root, ingest: 'http://ingest.example.com' })).rejects.toThrow(/https/);
    await expect(buildSdk({ trustRoot: root, ingest: 'http://127.0.0.1:8080' })).resolves.toBeDefined();
  });
});
