/**
 * `coffer sdk build --trust-root ROOT [--ingest URL] [--out DIR] [--base-url URL]`: write the browser sealing
 * module with the org trust root compiled in, under a content-hashed name, and print its name, its
 * sha384 Subresource Integrity value and the tag to paste into the customer page. Serve the file
 * from a static origin that is not the ingest host (docs/operations.md says why).
 */

import { scriptTag, writeSdk } from '@coffer/seal/build';
import { parseArgs } from '../args.ts';

export async function sdkCommand(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'trust-root': { type: 'string' },
      ingest: { type: 'string' },
      out: { type: 'string', default: 'dist/sdk' },
      'base-url': { type: 'string', default: '' },
    },
  });
  if (positionals[0] !== 'build' || !values['trust-root']) {
    throw new Error('usage: coffer sdk build --trust-root ROOT [--ingest URL] [--out DIR] [--base-url URL]');
  }
  const built = await writeSdk(
    { trustRoot: values['trust-root'], ...(values.ingest ? { ingest: values.ingest } : {}) },
    values.out,
  );
  const base = values['base-url'].replace(/\/+$/, '');
  const src = base ? `${base}/${built.fileName}` : built.fileName;
  process.stdout.write(
    [
      `file       ${built.path}`,
      `name       ${built.fileName}`,
      `integrity  ${built.integrity}`,
      `tag        ${scriptTag(src, built.integrity)}`,
      '',
    ].join('\n'),
  );
}
