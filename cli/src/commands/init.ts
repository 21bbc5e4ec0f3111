/**
 * `coffer init`: the bootstrap ceremony against a running vault, over the bus with the admin
 * plane's credential (this command never touches the database). Refuses an initialised vault.
 * Prints the trust root to pin in ingest and admin, and the recovery shares — once. The password
 * is typed (the policy is stated first) or read from --password-file FILE, `-` being standard
 * input, so that init runs without a terminal when told to. With --totp-file FILE the first
 * key-admin's authenticator is enrolled here (issue 9 item 3): its otpauth:// URL is written to
 * FILE (mode 0600; `-` prints it), and sign-in asks for a code from the start. Without it, a
 * confirmed account enrols its first authenticator only with a code another key-admin issues.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { newTotp, sealTotpSecret } from '@coffer/admin';
import { callVault, connectService, natsSettings, orgStatus } from '@coffer/bus';
import { asPositiveInt, readConfig, setting } from '@coffer/config';
import { PublicKey, recipientPublicKey } from '@coffer/crypto';
import { checkPassword, PASSWORD_POLICY } from '@coffer/policy';
import { DEFAULT_DATA_KEY_DAYS, DEFAULT_HORIZON_DAYS } from '@coffer/protocol';
import { parseArgs } from '../args.ts';
import { runCeremony } from '../ceremony.ts';
import { promptSecret } from '../prompt.ts';

export async function initCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      email: { type: 'string' },
      'password-file': { type: 'string' },
      'totp-file': { type: 'string' },
      shares: { type: 'string', default: '5' },
      threshold: { type: 'string', default: '3' },
      'horizon-days': { type: 'string', default: String(DEFAULT_HORIZON_DAYS) },
      // The fingerprint the vault logs at start ("admin replies signed by"): checked before the
      // org key certifies the reply key that `status` names, which crossed the bus unsigned.
      'vault-key-fingerprint': { type: 'string' },
      // X-Wing (ML-KEM-768 + X25519) unless told otherwise: records kept for years must outlast
      // a future quantum computer. x25519 is for deployments whose clients cannot seal X-Wing.
      suite: { type: 'string', default: 'xwing' },
    },
    strict: true,
  });
  if (!values.email) throw new Error('--email of the first key-admin is required');
  const suite = values.suite;
  if (suite !== 'xwing' && suite !== 'x25519') throw new Error('--suite must be xwing (the default) or x25519');
  const env = readConfig({
    ...natsSettings('admin'),
    dataKeyDays: setting('COFFER_DATA_KEY_DAYS', 'days per data key', asPositiveInt, DEFAULT_DATA_KEY_DAYS),
  });
  const bus = await connectService(env, 'admin');
  try {
    const status = await orgStatus(bus);
    if (status.initialised) throw new Error('this vault is already initialised; init runs once');
    const replyKeyFingerprint = replyKeyAsExpected(status.replyKey, values['vault-key-fingerprint']);
    const password = await readPassword(values['password-file']);
    const verdict = checkPassword(password, values.email);
    if (!verdict.ok) throw new Error(`password refused: ${verdict.detail}; a password must be ${PASSWORD_POLICY}`);
    const ceremony = await runCeremony({
      adminEmail: values.email,
      adminPassword: password,
      shares: asPositiveInt(values.shares),
      threshold: asPositiveInt(values.threshold),
      dataKeyDays: env.dataKeyDays,
      horizonDays: asPositiveInt(values['horizon-days']),
      now: new Date(),
      vaultReplyKey: status.replyKey,
      suite,
    });
    const totpFile = values['totp-file'];
    const totpUrl = totpFile === undefined ? undefined : enrolAtInit(ceremony.request.admin);
    // Written before the vault stores it, so a file that cannot be written stops init instead.
    if (totpFile !== undefined && totpFile !== '-' && totpUrl) writeFileSync(totpFile, `${totpUrl}\n`, WRITE_ONCE);
    await callVault(bus, 'bootstrap', ceremony.request);
    if (totpFile !== undefined && totpUrl) reportTotp(totpFile, totpUrl);
    printInitialised(ceremony, { email: values.email, replyKeyFingerprint, dataKeyDays: env.dataKeyDays, suite });
  } finally {
    await bus.close();
  }
}

/**
 * The fingerprint of the reply key the vault named in `status` (it crossed the bus unsigned), if
 * any; with --vault-key-fingerprint, it must be that one.
 */
function replyKeyAsExpected(replyKey: string | undefined, expected: string | undefined): string | undefined {
  const fingerprint = replyKey ? PublicKey.fromBase64url('ed25519', replyKey).fingerprint() : undefined;
  if (expected !== undefined && expected.replace(/\s/g, '') !== fingerprint?.replace(/\s/g, '')) {
    throw new Error('the vault reply key named over the bus is not the one given by --vault-key-fingerprint');
  }
  return fingerprint;
}

/** What the operator must keep from init: the trust root to pin, and the recovery shares, shown once. */
function printInitialised(
  ceremony: Awaited<ReturnType<typeof runCeremony>>,
  o: { email: string; replyKeyFingerprint: string | undefined; dataKeyDays: number; suite: string },
): void {
  const { replyKeyFingerprint, suite } = o;
  const out = process.stdout;
  out.write(`Coffer is initialised.\n\n`);
  out.write(`Trust root (set COFFER_TRUST_ROOT to this in ingest and admin):\n  ${ceremony.trustRoot}\n\n`);
  out.write(
    replyKeyFingerprint
      ? `Vault reply key certified: fingerprint ${replyKeyFingerprint}\n(compare with the vault's log line "admin replies signed by")\n\n`
      : `The vault named no reply key: its replies stay unsigned until a key-admin certifies one.\n\n`,
  );
  out.write(`First key-admin: ${o.email}, key fingerprint ${ceremony.adminFingerprint}\n`);
  out.write(
    `Data keys made: ${ceremony.request.dataKeys.length} (${o.dataKeyDays} days each, suite ${suite}; signed into the org's configuration)\n\n`,
  );
  out.write(
    `Recovery shares: any ${ceremony.request.org.recoveryThreshold} of these ${ceremony.shares.length} rebuild the recovery key\n` +
      `(fingerprint ${ceremony.recoveryFingerprint}). Give one to each officer now; they are not shown again\n` +
      `and are stored nowhere.\n\n`,
  );
  ceremony.shares.forEach((share, i) => {
    out.write(`  share ${i + 1}: ${share}\n`);
  });
}

async function readPassword(file: string | undefined): Promise<string> {
  if (file) return readFileSync(file === '-' ? 0 : file, 'utf8').replace(/\r?\n$/, '');
  process.stderr.write(`The first key-admin's password must be ${PASSWORD_POLICY}.\n`);
  return readPasswordTwice();
}

async function readPasswordTwice(): Promise<string> {
  const first = await promptSecret('Password for the first key-admin: ');
  const second = await promptSecret('Again: ');
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

/** Seal a new TOTP secret to the first key-admin's key into the bootstrap request; its URL. */
export function enrolAtInit(admin: { id: string; email: string; publicKey: string; totpSealed?: string }): string {
  const { totp, secret } = newTotp(admin.email);
  admin.totpSealed = sealTotpSecret(recipientPublicKey(admin.publicKey), admin.id, secret).toString('base64');
  return totp.toString();
}

export const WRITE_ONCE = { mode: 0o600, flag: 'wx' } as const;

export function reportTotp(file: string, url: string): void {
  process.stdout.write(
    file === '-'
      ? `Authenticator for the first key-admin (add it to an app now; not shown again):\n  ${url}\n\n`
      : `Authenticator for the first key-admin written to ${file}: add it to an app, then delete the file.\n\n`,
  );
}
