/**
 * The PKI directory: ca.crt and ca.key (the offline root), and per identity NAME.crt, NAME.key
 * and NAME.json (what it was issued for, so that rotation re-issues the same thing). Keys are
 * written 0600 in a 0700 directory; a replaced file is written beside and renamed over, so a
 * reader sees the old pair or the new one, never half of one.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Issued, LeafRequest, Role } from './certificates.ts';

export interface LeafRecord {
  readonly name: string;
  readonly role: Role;
  readonly dns: readonly string[];
  readonly ips: readonly string[];
  readonly days: number;
}

export const caFiles = (dir: string) => ({ cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') });
export const leafFiles = (dir: string, name: string) => ({
  cert: path.join(dir, `${name}.crt`),
  key: path.join(dir, `${name}.key`),
  record: path.join(dir, `${name}.json`),
});

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode, flag: 'wx' });
  await chmod(temp, mode);
  await rename(temp, file);
}

export async function writeCa(dir: string, ca: Issued): Promise<void> {
  const files = caFiles(dir);
  if (existsSync(files.cert) || existsSync(files.key))
    throw new Error(`${dir} already holds a CA; refusing to replace it`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(files.key, ca.keyPem, 0o600);
  await writeAtomically(files.cert, ca.certPem, 0o644);
}

export async function readCa(dir: string): Promise<Issued> {
  const files = caFiles(dir);
  if (!existsSync(files.key)) throw new Error(`no CA key at ${files.key}; run \`coffer pki init --dir ${dir}\` first`);
  return { certPem: await readFile(files.cert, 'utf8'), keyPem: await readFile(files.key, 'utf8') };
}

export async function writeLeaf(dir: string, request: LeafRequest, issued: Issued): Promise<void> {
  const files = leafFiles(dir, request.name);
  const record: LeafRecord = {
    name: request.name,
    role: request.role,
    dns: request.dns ?? [],
    ips: request.ips ?? [],
    days: request.days,
  };
  await writeAtomically(files.key, issued.keyPem, 0o600);
  await writeAtomically(files.cert, issued.certPem, 0o644);
  await writeAtomically(files.record, `${JSON.stringify(record, null, 2)}\n`, 0o644);
}

export async function listLeaves(dir: string): Promise<{ record: LeafRecord; notAfter: Date }[]> {
  const out: { record: LeafRecord; notAfter: Date }[] = [];
  for (const entry of (await readdir(dir)).sort()) {
    if (!entry.endsWith('.json')) continue;
    const record = JSON.parse(await readFile(path.join(dir, entry), 'utf8')) as LeafRecord;
    const cert = new X509Certificate(await readFile(leafFiles(dir, record.name).cert));
    out.push({ record, notAfter: new Date(cert.validTo) });
  }
  return out;
}
