// deploy/flows.yaml, read as data: the hosts of a deployment and the TCP flows allowed between them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Flow } from '../deploy/manifests.ts';
import { ROOT } from '../support/stack.ts';

export interface Flows {
  readonly hosts: readonly string[];
  readonly flows: readonly Flow[];
}

export function readFlows(file = path.join(ROOT, 'deploy/flows.yaml')): Flows {
  const doc = parse(readFileSync(file, 'utf8')) as { version: number; hosts: Record<string, string>; flows: Flow[] };
  if (doc.version !== 1) throw new Error(`${file}: version ${doc.version} is not understood`);
  const hosts = Object.keys(doc.hosts);
  for (const f of doc.flows) {
    if (!hosts.includes(f.from) || !hosts.includes(f.to))
      throw new Error(`${file}: flow ${f.from} → ${f.to} names an unknown host`);
    if (!Number.isInteger(f.port)) throw new Error(`${file}: flow ${f.from} → ${f.to} has no port`);
  }
  return { hosts, flows: doc.flows };
}

/**
 * The nftables ruleset that lets exactly these flows through the hosts' switch: a bridge-family
 * forward chain, default drop. The bridge family has no connection tracking, so each flow is a
 * pair of stateless rules: the client may send to the port, and the server may answer from it
 * with anything but a bare SYN — it can reply on a connection, never open one.
 */
export function nftRuleset(table: string, flows: Flows, ip: (host: string) => string): string {
  const rules = flows.flows.flatMap((f) => [
    `    # ${f.from} → ${f.to}:${f.port} (${f.protocol}): ${f.why.replace(/\n/g, ' ')}`,
    `    ip saddr ${ip(f.from)} ip daddr ${ip(f.to)} tcp dport ${f.port} accept`,
    `    ip saddr ${ip(f.to)} ip daddr ${ip(f.from)} tcp sport ${f.port} tcp flags & (syn | ack) != syn accept`,
  ]);
  return [
    `table bridge ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy drop;',
    '    ether type arp accept',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}
