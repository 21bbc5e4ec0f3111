/**
 * `pnpm dev` pins the trust root in .coffer/trust-root: written once, by the start that ran the
 * ceremony, and compared on every later start (startPlanes refuses a vault that disagrees). The
 * vault's database is never the source: a writer there could put in an org key of their own.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublicKey } from '@coffer/crypto';

const FILE = 'trust-root';

/** The pinned org public key, or undefined when none is pinned yet. */
export function readPinnedTrustRoot(dir: string): string | undefined {
  const file = join(dir, FILE);
  if (existsSync(file)) return checked(readFileSync(file, 'utf8').trim(), file);
  // Installations made before the pin file existed: dev.json (ours, 0600) recorded it at start.
  const devJson = join(dir, 'dev.json');
  if (existsSync(devJson)) {
    const { trustRoot } = JSON.parse(readFileSync(devJson, 'utf8')) as { trustRoot?: unknown };
    if (typeof trustRoot === 'string') return checked(trustRoot, devJson);
  }
  return undefined;
}

/** Pin `trustRoot` unless one is pinned already (then it must be the same). */
export function pinTrustRoot(dir: string, trustRoot: string): void {
  const pinned = readPinnedTrustRoot(dir);
  if (pinned !== undefined && pinned !== trustRoot) throw new Error(`${join(dir, FILE)} pins another trust root`);
  if (!existsSync(join(dir, FILE))) writeFileSync(join(dir, FILE), `${trustRoot}\n`, { mode: 0o600 });
}

function checked(value: string, file: string): string {
  try {
    return PublicKey.fromBase64url('ed25519', value).toBase64url();
  } catch {
    throw new Error(`${file} does not hold an org public key (base64url Ed25519)`);
  }
}
