/**
 * `coffer recover --email ADDRESS [--password-file FILE] [--shares-file FILE]`: break-glass. Needs
 * COFFER_TRUST_ROOT (the org public key every plane pins) to check the recovered org key against. Reads
 * k recovery shares (one per line from the file, or typed at the prompt), rebuilds the recovery
 * key in this process, and makes a new key-admin holding the org key and every live data key.
 * Uses the admin plane's bus credential, like `init`. Audited by the vault.
 *
 * `coffer recover --release-now USER_ID --fingerprint "NNNNN …"` (issue 16 item 4c): with a
 * break-glass delay, a second officer releases that held recovery at once with k shares of their
 * own run; the fingerprint is the one the recovering officer's `coffer recover` printed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { connectService, natsSettings, trustVaultReplies } from '@coffer/bus';
import { asBoolean, readConfig, setting } from '@coffer/config';
import { PublicKey } from '@coffer/crypto';
import { parseArgs } from '../args.ts';
import { promptSecret } from '../prompt.ts';
import { releaseRecoveryNow, runRecovery } from '../recovery.ts';
import { enrolAtInit, reportTotp, WRITE_ONCE } from './init.ts';

async function readShares(file: string | undefined): Promise<string[]> {
  // One share a line; a leading "share N:" label (as `pnpm dev` writes them) is ignored.
  if (file) {
    return readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.replace(/^\s*share\s+\d+\s*:/i, '').trim())
      .filter(Boolean);
  }
  if (!process.stdin.isTTY) throw new Error('no terminal to type shares at: use --shares-file');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const shares: string[] = [];
  try {
    process.stdout.write('Type one recovery share per line; an empty line ends.\n');
    for (;;) {
      const line = (await rl.question(`share ${shares.length + 1}: `)).trim();
      if (!line) break;
      shares.push(line);
    }
  } finally {
    rl.close();
  }
  return shares;
}

export async function recoverCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      email: { type: 'string' },
      'password-file': { type: 'string' },
      'shares-file': { type: 'string' },
      'totp-file': { type: 'string' },
      'release-now': { type: 'string' },
      fingerprint: { type: 'string' },
    },
    strict: true,
  });
  const releaseNow = values['release-now'];
  if (releaseNow !== undefined && !values.fingerprint) {
    throw new Error("--release-now needs --fingerprint: the held key-admin's, as their `coffer recover` printed it");
  }
  if (releaseNow === undefined && !values.email) throw new Error('--email of the new key-admin is required');
  const env = readConfig({
    ...natsSettings('admin'),
    trustRoot: setting('COFFER_TRUST_ROOT', 'the org public key, base64url, as the planes pin it', (raw) =>
      PublicKey.fromBase64url('ed25519', raw).toBase64url(),
    ),
    acceptUnsigned: setting(
      'COFFER_ACCEPT_UNSIGNED_VAULT_REPLIES',
      'read vault replies without a signature (a vault whose reply key is not certified)',
      asBoolean,
      false,
    ),
  });
  const shares = await readShares(values['shares-file']);
  if (releaseNow !== undefined) {
    await withBus(env, (bus) =>
      releaseRecoveryNow({
        bus,
        shares,
        userId: releaseNow,
        fingerprint: values.fingerprint as string,
        trustRoot: env.trustRoot,
      }),
    );
    process.stdout.write(`Released now: ${releaseNow} holds its keys. Every key-admin has been alerted.\n`);
    return;
  }
  const password = values['password-file']
    ? readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '')
    : await promptSecret('Password for the new key-admin: ');
  // The vault's replies are checked as the admin plane checks them, against the pinned trust root.
  await withBus(env, (bus) =>
    enrolNew(bus, { email: values.email as string, password, shares, trustRoot: env.trustRoot }, values['totp-file']),
  );
}

async function enrolNew(
  bus: Awaited<ReturnType<typeof connectService>>,
  who: { email: string; password: string; shares: string[]; trustRoot: string },
  totpFile: string | undefined,
): Promise<void> {
  // issue 9 item 3: no other key-admin may be left to issue an enrolment code, so the
  // recovered key-admin's authenticator is enrolled here (as `coffer init --totp-file` does).
  let totpUrl: string | undefined;
  const enrolTotp = (admin: { id: string; email: string; publicKey: string }) => {
    const holder: { id: string; email: string; publicKey: string; totpSealed?: string } = { ...admin };
    totpUrl = enrolAtInit(holder);
    if (totpFile !== '-' && totpFile !== undefined) writeFileSync(totpFile, `${totpUrl}\n`, WRITE_ONCE);
    return holder.totpSealed as string;
  };
  const { userId, fingerprint, heldUntil } = await runRecovery({
    bus,
    ...who,
    ...(totpFile === undefined ? {} : { enrolTotp }),
  });
  if (totpFile !== undefined && totpUrl) reportTotp(totpFile, totpUrl);
  process.stdout.write(
    `Recovered. New key-admin ${who.email} (${userId}), key fingerprint ${fingerprint}.\n` +
      (heldUntil
        ? `Every key-admin has been alerted. The keys are held until ${heldUntil}; any key-admin may cancel before then.\n` +
          `A second officer with k shares may release them now: coffer recover --release-now ${userId} --fingerprint "${fingerprint}"\n`
        : 'They hold the org key and every live data key; sign in to the admin plane.\n'),
  );
}

async function withBus(
  env: Parameters<typeof connectService>[0] & { trustRoot: string; acceptUnsigned: boolean },
  run: (bus: Awaited<ReturnType<typeof connectService>>) => Promise<void>,
): Promise<void> {
  const bus = await connectService(env, 'admin');
  trustVaultReplies(bus, {
    trustRoot: PublicKey.fromBase64url('ed25519', env.trustRoot),
    acceptUnsigned: env.acceptUnsigned,
  });
  try {
    await run(bus);
  } finally {
    await bus.close();
  }
}
