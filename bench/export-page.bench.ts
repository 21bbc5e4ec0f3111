/**
 * `pnpm tsx bench/export-page.bench.ts`: one export page of 4,096 records on its way from the vault
 * to the admin plane, in this process, CPU per record (issue 14). The vault side as the router and
 * the reply signer build it, the admin side as `callVault` / `callVaultAttached` check and read it
 * (over an in-process bus, so no NATS): the base64 page in the JSON reply in the signed JSON
 * envelope (`export.chunk`) against the binary reply frame (`export.block`). Not in CI.
 */
import { randomBytes } from 'node:crypto';
import { callVault, callVaultAttached, InProcessBus, trustVaultReplies } from '@coffer/bus';
import { certifyVaultReplyKey, PrivateKey, signVaultReply, signVaultReplyFrame } from '@coffer/crypto';
import {
  decodeExportPage,
  encodeExportPage,
  encodeJson,
  encodeReplyFrame,
  newRecordId,
  replyFrameBody,
} from '@coffer/protocol';
import { machine } from './measure.ts';

const N = 4096;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const org = PrivateKey.generate('ed25519');
const replyKey = PrivateKey.generate('ed25519');
const certificate = certifyVaultReplyKey(org, replyKey.publicKey);
const contextId = '00000000-0000-4000-8000-000000000001';
const enc = randomBytes(32);
const submittedAt = new Date().toISOString();
// A PAN sealed under a context is 59 bytes; the page is what the vault encodes for 4,096 of them.
const rows = Array.from({ length: N }, () => ({
  id: newRecordId(),
  type: 'pan',
  dataKeyId: 'dk-1',
  sealed: randomBytes(59),
  contextId,
  contextEnc: enc,
  submittedAt,
}));
const wrappedDataKeys = { 'dk-1': randomBytes(88).toString('base64') };
const decoder = new TextDecoder();

/** The vault side of export.chunk: page, base64, reply JSON, envelope v2 (reply-signer.ts seal). */
function chunkReply(op: string, request: Uint8Array): Uint8Array {
  const page = encodeExportPage(rows).toString('base64');
  const reply = encodeJson({ v: 1, ok: true, result: { format: 1, page, done: false, wrappedDataKeys } });
  const signature = signVaultReply(replyKey, op, request, reply);
  return encodeJson({
    v: 2,
    reply: decoder.decode(reply),
    key: replyKey.publicKey.toBase64url(),
    certificate,
    signature,
  });
}

/** The vault side of export.block: page, reply JSON, frame (router.ts + reply-signer.ts sealFrame). */
function blockReply(op: string, request: Uint8Array): Uint8Array {
  const body = replyFrameBody(
    encodeJson({ v: 1, ok: true, result: { done: false, wrappedDataKeys } }),
    encodeExportPage(rows),
  );
  return encodeReplyFrame(body, {
    key: Buffer.from(replyKey.publicKey.toBase64url(), 'base64url'),
    certificate: Buffer.from(certificate, 'base64url'),
    signature: signVaultReplyFrame(replyKey, op, request, body),
  });
}

/** A bus whose vault answers with `reply`, timed apart from the admin's side. */
function bus(reply: (op: string, request: Uint8Array) => Uint8Array) {
  const b = new InProcessBus();
  let vaultMicros = 0;
  b.serve(`${b.names.admin}.>`, async (data, subject) => {
    const c0 = process.cpuUsage();
    const out = reply(subject.slice(b.names.admin.length + 1), data);
    const c = process.cpuUsage(c0);
    vaultMicros += c.user + c.system;
    return out;
  });
  trustVaultReplies(b, { trustRoot: org.publicKey });
  return { b, vault: () => vaultMicros };
}

const request = { v: 1 as const, session: 'ab'.repeat(32), exportId: newRecordId(), limit: N };
const forms = {
  'export.chunk (base64 in JSON in the JSON envelope)': {
    ...bus(chunkReply),
    read: async (b: InProcessBus) =>
      decodeExportPage(Buffer.from((await callVault(b, 'export.chunk', request)).page, 'base64')),
  },
  'export.block (binary reply frame)': {
    ...bus(blockReply),
    read: async (b: InProcessBus) => decodeExportPage((await callVaultAttached(b, 'export.block', request)).attachment),
  },
};
console.log(`Machine: ${machine()}; one page of ${N} records, ${ROUNDS} rounds after 5 warm-up, CPU µs per record`);
console.log('\n| form | vault side | admin side (check, decode) | both |\n|---|---:|---:|---:|');
for (const [name, form] of Object.entries(forms)) {
  for (let i = 0; i < 5; i++) await form.read(form.b);
  const vault0 = form.vault();
  const c0 = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) if ((await form.read(form.b)).length !== N) throw new Error('lost records');
  const c = process.cpuUsage(c0);
  const vault = (form.vault() - vault0) / ROUNDS / N;
  const all = (c.user + c.system) / ROUNDS / N;
  console.log(`| ${name} | ${vault.toFixed(2)} | ${(all - vault).toFixed(2)} | ${all.toFixed(2)} |`);
}
process.exit(0);
