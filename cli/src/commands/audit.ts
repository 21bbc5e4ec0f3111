/**
 * `coffer audit verify`: walk the audit log's hash chain straight from the database (any role
 * that may SELECT audit_events, e.g. a read replica's) and name the first broken event; then hold
 * its head against what is kept outside the database:
 *
 *   --checkpoints FILE     a copy of the vault's audit-checkpoints.jsonl (COFFER_AUDIT_CHECKPOINTS)
 *   --checkpoint-key KEY   the vault's checkpoint public key, pinned (COFFER_AUDIT_CHECKPOINT_KEY)
 *   --expect-head HASH     a head recorded earlier: the chain must still contain it
 *   --min-events N         the log must hold at least N events
 *
 * Exit status 0 when everything holds, 1 when anything does not.
 */

import { asUrl, readConfig, setting } from '@coffer/config';
import { PublicKey } from '@coffer/crypto';
import { type AuditLogVerdict, type CheckpointVerdict, verifyAuditLog } from '@coffer/vault';
import postgres from 'postgres';
import { parseArgs } from '../args.ts';

const USAGE =
  'usage: coffer audit verify [--checkpoints FILE --checkpoint-key KEY] [--expect-head HASH] [--min-events N]';

function options(argv: string[]) {
  if (argv[0] !== 'verify') throw new Error(USAGE);
  const { values } = parseArgs({
    args: argv.slice(1),
    options: {
      checkpoints: { type: 'string' },
      'checkpoint-key': { type: 'string' },
      'expect-head': { type: 'string' },
      'min-events': { type: 'string' },
    },
    strict: true,
  });
  const file = values.checkpoints ?? process.env.COFFER_AUDIT_CHECKPOINTS;
  const keyText = values['checkpoint-key'] ?? process.env.COFFER_AUDIT_CHECKPOINT_KEY;
  if (file && !keyText)
    throw new Error('--checkpoints needs --checkpoint-key: the public key you pinned for the vault');
  let key: PublicKey<'ed25519'> | undefined;
  if (keyText) {
    try {
      key = PublicKey.fromBase64url('ed25519', keyText);
    } catch {
      throw new Error('--checkpoint-key is not an Ed25519 public key (base64url, 43 characters)');
    }
  }
  const head = values['expect-head'];
  if (head !== undefined && !/^[0-9a-f]{64}$/.test(head)) throw new Error('--expect-head must be 64 hex digits');
  const min = values['min-events'];
  if (min !== undefined && !/^[0-9]{1,15}$/.test(min)) throw new Error('--min-events must be a whole number');
  return {
    ...(file && key ? { checkpoints: { file, key } } : {}),
    ...(head ? { expectHead: head } : {}),
    ...(min ? { minEvents: Number(min) } : {}),
  };
}

function checkpointLine(c: CheckpointVerdict): string {
  switch (c.status) {
    case 'verified':
      return `checkpoint at event ${c.checkpoint.seq} (signed ${c.checkpoint.at}) matches`;
    case 'truncated':
      return `audit log TRUNCATED: the checkpoint signed ${c.checkpoint.at} vouches for event ${c.checkpoint.seq}, the log ends at ${c.events}`;
    case 'rewritten':
      return `audit log REWRITTEN: event ${c.checkpoint.seq} has hash ${c.found}, the checkpoint signed ${c.checkpoint.at} says ${c.checkpoint.hash}`;
    case 'unchecked':
      return `checkpoint at event ${c.checkpoint.seq} not reached: the chain breaks before it`;
    case 'forged':
      return `checkpoint file REFUSED: ${c.refused.map((r) => `line ${r.line} from the end (${r.reason})`).join(', ')} after the last genuine checkpoint do not verify under the pinned key`;
    case 'none':
      return 'no checkpoint in the file verifies under the pinned key';
    case 'off':
      return 'no checkpoints checked (give --checkpoints and --checkpoint-key): a truncated tail would go unnoticed';
  }
}

export function describeVerdict(v: AuditLogVerdict): string[] {
  const lines = [
    v.head !== undefined
      ? `audit chain intact: ${v.events} events, head ${v.head}`
      : `audit log BROKEN at event ${v.brokenAt} (${v.events} events before it verify)`,
    checkpointLine(v.checkpoint),
  ];
  if (v.expectedHead) {
    lines.push(
      v.expectedHead.found
        ? `expected head ${v.expectedHead.hash} found`
        : `expected head ${v.expectedHead.hash} NOT FOUND in the chain`,
    );
  }
  if (v.minEvents) {
    lines.push(
      v.minEvents.met
        ? `at least ${v.minEvents.required} events`
        : `FEWER than the ${v.minEvents.required} events expected`,
    );
  }
  lines.push(v.ok ? 'audit log verified' : 'audit log FAILED verification');
  return lines;
}

export async function auditCommand(argv: string[]): Promise<void> {
  const expectations = options(argv);
  const { url } = readConfig({
    url: setting(
      'DATABASE_URL',
      'PostgreSQL URL of a role that may read audit_events',
      asUrl(['postgres:', 'postgresql:']),
    ),
  });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const verdict = await verifyAuditLog(sql, expectations);
    process.stdout.write(`${describeVerdict(verdict).join('\n')}\n`);
    if (!verdict.ok) process.exitCode = 1;
  } finally {
    await sql.end();
  }
}
