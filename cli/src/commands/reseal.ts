/**
 * `coffer reseal --admin-url URL --email ADDRESS [--password-file FILE] [--totp CODE] (--key ID… | --suite x25519)
 * [--rate 200] [--batch 200]`: move every record of the given data keys to the current data key,
 * (or of every key of a suite), through the admin plane as a key-admin, then destroy those keys
 * (issue 15, item 3).
 */
import { adminSignIn, adminSignInOptions } from '../admin-session.ts';
import { parseArgs } from '../args.ts';
import { runReseal } from '../reseal.ts';

export async function resealCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...adminSignInOptions,
      key: { type: 'string', multiple: true },
      suite: { type: 'string' },
      rate: { type: 'string' },
      batch: { type: 'string' },
    },
    strict: true,
  });
  if (!values['admin-url'] || !values.email || !(values.key?.length || values.suite)) {
    throw new Error('--admin-url, --email and at least one --key or a --suite are required');
  }
  const suite = values.suite;
  if (suite !== undefined && suite !== 'x25519' && suite !== 'xwing') throw new Error('--suite is x25519 or xwing');
  const number = (raw: string | undefined, name: string) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const signIn = await adminSignIn({ ...values, 'admin-url': values['admin-url'], email: values.email });
  const rate = number(values.rate, 'rate');
  const batch = number(values.batch, 'batch');
  const result = await runReseal({
    ...signIn,
    keyIds: values.key ?? [],
    ...(suite ? { suite } : {}),
    ...(rate ? { ratePerSecond: rate } : {}),
    ...(batch ? { batch } : {}),
    progress: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`re-sealed ${result.moved} records; ${result.destroyedKeys} old data keys destroyed\n`);
}
