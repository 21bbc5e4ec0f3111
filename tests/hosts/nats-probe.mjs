// A bare NATS client for the host suite, run with `node` on a host from a deployed service folder
// (which has the NATS client in its node_modules). PROBE (JSON) says how to connect and what to
// try; it prints one JSON line: connected or refused, and any permission violation seen.

import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';

const probe = JSON.parse(process.env.PROBE ?? '{}');
const read = (file) => (file ? readFileSync(file, 'utf8') : undefined);
const out = (result) => process.stdout.write(`${JSON.stringify(result)}\n`);

let nc;
try {
  nc = await connect({
    servers: probe.url,
    reconnect: false,
    timeout: 5000,
    ...(probe.user ? { user: probe.user, pass: probe.pass ?? '' } : {}),
    ...(probe.inbox ? { inboxPrefix: probe.inbox } : {}),
    tls: { ca: read(probe.ca), ...(probe.cert ? { cert: read(probe.cert), key: read(probe.key) } : {}) },
  });
} catch (err) {
  out({ connected: false, error: String(err.message ?? err) });
  process.exit(0);
}
const violations = [];
void (async () => {
  for await (const s of nc.status()) {
    if (s.type === 'error') violations.push(String(s.error?.message ?? s.error));
  }
})();
if (probe.subscribe) nc.subscribe(probe.subscribe);
if (probe.publish) nc.publish(probe.publish, 'probe');
await nc.flush();
await new Promise((r) => setTimeout(r, 500));
out({ connected: true, violations });
await nc.close().catch(() => {});
