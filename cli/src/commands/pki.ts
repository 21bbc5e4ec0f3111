/**
 * `coffer pki`: the internal PKI for mutual TLS between the planes.
 *
 *   pki init --dir DIR [--name NAME] [--days 3650]     the offline root CA
 *   pki issue NAME --role ROLE --dir DIR [--dns D]... [--ip A]... [--days 90]
 *   pki rotate --dir DIR [--within 30] [--force]       re-issue what expires within N days
 *
 * The CA key stays in DIR on an offline machine; hosts get ca.crt and their own NAME.crt/.key.
 */
import { existsSync } from 'node:fs';
import { asPositiveInt } from '@coffer/config';
import { parseArgs } from '../args.ts';
import { checkLeafRequest, createRootCa, isRole, issueLeaf, type LeafRequest, ROLES } from '../pki/certificates.ts';
import { caFiles, leafFiles, listLeaves, readCa, writeCa, writeLeaf } from '../pki/store.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const DAY_MS = 86_400_000;

export async function pkiCommand(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb === 'init') return init(rest);
  if (verb === 'issue') return issue(rest);
  if (verb === 'rotate') return rotate(rest);
  throw new Error('usage: coffer pki init|issue|rotate (see `coffer` for the options)');
}

async function init(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      name: { type: 'string', default: 'Coffer internal CA' },
      days: { type: 'string', default: '3650' },
    },
    strict: true,
  });
  if (!values.dir) throw new Error('--dir is required');
  const ca = await createRootCa({ name: values.name, days: asPositiveInt(values.days) });
  await writeCa(values.dir, ca);
  const files = caFiles(values.dir);
  say(`root CA written: ${files.cert} (give to every host) and ${files.key} (0600; keep offline)`);
}

async function issue(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      role: { type: 'string' },
      dns: { type: 'string', multiple: true, default: [] },
      ip: { type: 'string', multiple: true, default: [] },
      days: { type: 'string', default: '90' },
    },
    strict: true,
  });
  const [name] = positionals;
  if (!name || positionals.length !== 1)
    throw new Error('one NAME is required: coffer pki issue NAME --role ROLE --dir DIR');
  if (!values.dir) throw new Error('--dir is required');
  if (!values.role || !isRole(values.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const request: LeafRequest = { name, role: values.role, dns: values.dns, ips: values.ip, days: Number(values.days) };
  checkLeafRequest(request);
  if (existsSync(leafFiles(values.dir, name).cert)) {
    throw new Error(`${name} is already issued in ${values.dir}; use \`coffer pki rotate --force\` to replace it`);
  }
  const ca = await readCa(values.dir);
  await writeLeaf(values.dir, request, await issueLeaf(ca, request));
  const files = leafFiles(values.dir, name);
  say(`issued ${name} (${values.role}, ${request.days} days): ${files.cert} and ${files.key} (0600)`);
}

async function rotate(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      within: { type: 'string', default: '30' },
      force: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.dir) throw new Error('--dir is required');
  const ca = await readCa(values.dir);
  const horizon = Date.now() + asPositiveInt(values.within) * DAY_MS;
  let rotated = 0;
  for (const { record, notAfter } of await listLeaves(values.dir)) {
    if (!values.force && notAfter.getTime() > horizon) {
      say(`${record.name}: valid until ${notAfter.toISOString()}; kept`);
      continue;
    }
    const request: LeafRequest = {
      name: record.name,
      role: record.role,
      dns: record.dns,
      ips: record.ips,
      days: record.days,
    };
    await writeLeaf(values.dir, request, await issueLeaf(ca, request));
    rotated++;
    say(`${record.name}: re-issued with a new key (was valid until ${notAfter.toISOString()})`);
  }
  say(`${rotated} certificate(s) re-issued; copy them to their hosts and restart those services`);
}
