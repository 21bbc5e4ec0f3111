// A private three-node nats-server cluster on loopback ports, with JetStream and the shipped
// permissions, whose nodes a test can SIGKILL and restart (the store survives).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, freePort, jetstreamManager, type NatsServer, startNatsServer } from '@coffer/testkit';
import { waitFor } from './http.ts';
import { ROOT } from './stack.ts';

export type Plane = 'ingest' | 'vault' | 'admin';

export interface NatsCluster {
  readonly nodes: NatsServer[];
  readonly passwords: Readonly<Record<Plane, string>>;
  kill(node: number): Promise<void>;
  restart(node: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const pw = (): string => `p${randomBytes(24).toString('hex')}`;
  const passwords = { ingest: pw(), vault: pw(), admin: pw() };
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nodes: NatsServer[] = [];
  try {
    const started = await Promise.all(
      clusterPorts.map((port, i) =>
        startNatsServer({
          include: path.join(ROOT, 'deploy/nats/permissions.conf'),
          env: {
            NATS_INGEST_PASSWORD: passwords.ingest,
            NATS_VAULT_PASSWORD: passwords.vault,
            NATS_ADMIN_PASSWORD: passwords.admin,
            NATS_SIEM_PASSWORD: `p${randomBytes(24).toString('hex')}`,
          },
          config: [
            `server_name: n${i + 1}`,
            'cluster {',
            '  name: coffer',
            `  listen: 127.0.0.1:${port}`,
            `  routes: [${clusterPorts.map((p) => `"nats://127.0.0.1:${p}"`).join(', ')}]`,
            '}',
          ].join('\n'),
        }),
      ),
    );
    nodes.push(...started);
    // JetStream answers only once the nodes have elected a meta leader.
    await waitFor(
      'the JetStream cluster to elect a leader',
      async () => {
        const nc = await connect({
          servers: nodes[0]?.url as string,
          user: 'vault',
          pass: passwords.vault,
          inboxPrefix: '_INBOX_vault',
        });
        try {
          await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      30_000,
      250,
    );
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return {
    nodes,
    passwords,
    async kill(node) {
      process.kill(await pidOf(nodes[node] as NatsServer), 'SIGKILL');
    },
    async restart(node) {
      await (nodes[node] as NatsServer).restart();
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** The node's pid, from the last start line of its log (`[pid] … Starting nats-server`). */
async function pidOf(node: NatsServer): Promise<number> {
  const log = await readFile(node.logFile, 'utf8');
  const matches = [...log.matchAll(/\[(\d+)\] .*Starting nats-server/g)];
  const pid = Number(matches.at(-1)?.[1]);
  if (!pid) throw new Error(`no pid in ${node.logFile}`);
  return pid;
}
