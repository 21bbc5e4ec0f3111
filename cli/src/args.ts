/**
 * `util.parseArgs` for every command, with one difference: a string option's value may start with
 * a dash. Keys, fingerprints and trust roots are base64url, so one in 64 starts with `-`, and
 * parseArgs refuses `--trust-root -AbC…` as ambiguous. The value is joined to its flag
 * (`--trust-root=-AbC…`) unless it is itself one of the command's flags, so a forgotten value is
 * still an error rather than swallowing the next flag.
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  // The same config with its args rewritten: the cast keeps parseArgs' typing of `values`.
  return nodeParseArgs({ ...config, args: joinDashValues(config.args ?? [], config.options ?? {}) } as T);
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function joinDashValues(argv: readonly string[], options: Options): string[] {
  const flags = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    flags.add(`--${name}`);
    if (o.short) flags.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next?.startsWith('-') && !flags.has(next) && next !== '--') {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
