/**
 * `coffer suite --admin-url URL --email ADDRESS --to xwing [--password-file FILE] [--totp CODE]
 * [--no-rotate]`: move the org's new keys to a suite as a key-admin, then rotate into it (issue 15).
 */
import { adminSignIn, adminSignInOptions } from '../admin-session.ts';
import { parseArgs } from '../args.ts';
import { runSuiteChange } from '../suite.ts';

export async function suiteCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...adminSignInOptions,
      to: { type: 'string' },
      'no-rotate': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values['admin-url'] || !values.email || !values.to) {
    throw new Error('--admin-url, --email and --to are required');
  }
  const to = values.to;
  if (to !== 'x25519' && to !== 'xwing') throw new Error('--to is xwing or x25519');
  const signIn = await adminSignIn({ ...values, 'admin-url': values['admin-url'], email: values.email });
  const result = await runSuiteChange({
    ...signIn,
    to,
    rotate: !values['no-rotate'],
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!result.changed) {
    out(`the org's suite is already ${result.suite} (configuration version ${result.version}); nothing changed`);
    return;
  }
  out(`org suite ${result.from} → ${result.suite} (configuration version ${result.version}, signed by the org key)`);
  if (result.rotated) {
    out(`rotated: ${result.rotated.length} data keys made in ${result.suite}; new records are sealed with them`);
    if (result.from === 'x25519') {
      out(`in 10 minutes, move older records: pnpm coffer reseal --admin-url … --email … --suite ${result.from}`);
    }
  } else out('not rotated (--no-rotate): the current key is unchanged until POST /api/keys/rotate');
}
