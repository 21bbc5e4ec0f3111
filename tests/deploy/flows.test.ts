// Issue 11, item 4: the compose networks and the Kubernetes NetworkPolicies allow exactly the flows
// of deploy/flows.yaml — no more, no fewer. Each is read as data and turned into the flows it
// permits (tests/deploy/compose.ts, network-policy.ts), then compared as sets.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeFlows, readCompose } from './compose.ts';
import { type K8sObject, render } from './kustomize.ts';
import { DEPLOY, flowKey, readFlows } from './manifests.ts';
import { policyFlows } from './network-policy.ts';

const { hosts, flows } = readFlows();
const allowed = flows.map(flowKey).sort();
const tiers = new Set(Object.keys(hosts));
const keys = (list: { from: string; to: string; port: number }[]) => [...new Set(list.map(flowKey))].sort();

describe('deploy/flows.yaml', () => {
  it('is well formed: known hosts, TCP ports, a reason for each flow', () => {
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) {
      expect(tiers.has(f.from) && tiers.has(f.to), flowKey(f)).toBe(true);
      expect(Number.isInteger(f.port) && f.port > 0 && f.port < 65536).toBe(true);
      expect(f.why.length).toBeGreaterThan(10);
    }
    expect(new Set(allowed).size, 'no flow twice').toBe(allowed.length);
  });
});

describe('compose networks', () => {
  it('allow exactly the flows of flows.yaml', () => {
    expect(keys(composeFlows(readCompose()))).toEqual(allowed);
  });

  it('keep ingest off every network with postgres or admin, and admin off postgres and the edge', () => {
    const doc = readCompose();
    const nets = (s: string) => new Set(Object.keys(doc.services[s]?.networks ?? {}));
    const shared = (a: string, b: string) => [...nets(a)].filter((n) => nets(b).has(n));
    expect(shared('ingest', 'postgres')).toEqual([]);
    expect(shared('ingest', 'admin')).toEqual([]);
    expect(shared('admin', 'postgres')).toEqual([]);
    expect(nets('admin').has('edge')).toBe(false);
  });

  it('the check is not vacuous: one network more, or one less, is caught', () => {
    const extra = readCompose();
    (extra.services.admin?.networks as Record<string, object>)['bus-vault'] = {};
    (extra.services.vault?.environment as Record<string, string>).HOST = '0.0.0.0';
    expect(keys(composeFlows(extra))).toContain('admin -> vault:8082');
    const fewer = readCompose();
    fewer.services.vault = { ...fewer.services.vault, networks: ['bus-vault'] };
    fewer.services.migrate = { ...fewer.services.migrate, networks: [] };
    expect(keys(composeFlows(fewer))).not.toContain('vault -> database:5432');
    const listenEverywhere = readCompose();
    (listenEverywhere.services.ingest?.environment as Record<string, string>).HOST = '0.0.0.0';
    expect(keys(composeFlows(listenEverywhere))).toContain('bus -> ingest:8080');
  });
});

// What a cluster needs beyond flows.yaml, each named: the tiers' own members talking to each
// other (NATS routes, PostgreSQL replication and instance status), and the platform (DNS, the
// CloudNativePG operator, the API server for the instance manager).
const INTRA_TIER = ['bus -> bus:6222', 'database -> database:5432', 'database -> database:8000'];
const platform = (apiServer: string) => [
  ...['admin', 'bus', 'database', 'ingest', 'vault'].map((t) => `${t} -> dns:53`),
  'cnpg-operator -> database:8000',
  `database -> ip:${apiServer}:443`,
  `database -> ip:${apiServer}:6443`,
];

describe.each([
  ['base', '192.0.2.1/32'],
  ['overlays/dev', '192.0.2.1/32'],
  ['overlays/production', '10.96.0.1/32'],
])('NetworkPolicies of deploy/k8s/%s', (tree, apiServer) => {
  const objects = render(path.join(DEPLOY, 'k8s', tree));
  const derived = keys(policyFlows(objects));
  const between = derived.filter((k) => {
    const [from = '', to = ''] = k.split(/ -> |:/);
    return tiers.has(from) && tiers.has(to) && from !== to;
  });

  it('allow exactly the flows of flows.yaml between tiers', () => {
    expect(between).toEqual(allowed);
  });

  it('allow nothing else but the named intra-tier and platform flows', () => {
    expect(derived.filter((k) => !between.includes(k)).sort()).toEqual([...INTRA_TIER, ...platform(apiServer)].sort());
  });

  it('deny by default in every namespace', () => {
    const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    for (const ns of namespaces) {
      const deny = objects.find(
        (o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === 'default-deny',
      );
      expect((deny as K8sObject & { spec: unknown })?.spec, ns).toEqual({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
    }
  });
});

describe('the NetworkPolicy reading is not vacuous', () => {
  const base = () => render(path.join(DEPLOY, 'k8s/base'));
  const policy = (objects: K8sObject[], ns: string, name: string) =>
    objects.find(
      (o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === name,
    ) as K8sObject & {
      spec: { ingress?: { from?: unknown[] }[]; egress?: { to?: unknown[] }[] };
    };

  it('an allow rule more shows up as a flow more', () => {
    const objects = base();
    // The database admitting the admin plane: its ingress alone is not enough (admin's egress
    // denies it); with both, the flow appears.
    policy(objects, 'coffer-database', 'vault-replicas-operator').spec.ingress?.[0]?.from?.push({
      namespaceSelector: { matchLabels: { 'coffer.io/tier': 'admin' } },
    });
    expect(keys(policyFlows(objects))).not.toContain('admin -> database:5432');
    policy(objects, 'coffer-admin', 'egress').spec.egress?.push({
      to: [{ namespaceSelector: { matchLabels: { 'coffer.io/tier': 'database' } } }],
    });
    expect(keys(policyFlows(objects))).toContain('admin -> database:5432');
  });

  it('without their policies, two namespaces are open to each other', () => {
    expect(keys(policyFlows(base()))).not.toContain('vault -> bus:8222');
    const open = ['coffer-bus', 'coffer-vault'];
    const objects = base().filter((o) => !(o.kind === 'NetworkPolicy' && open.includes(o.metadata.namespace ?? '')));
    expect(keys(policyFlows(objects))).toContain('vault -> bus:8222'); // the NATS monitoring port
  });

  it('an allow rule less shows up as a flow less', () => {
    const objects = base();
    policy(objects, 'coffer-bus', 'clients-and-routes').spec.ingress?.[0]?.from?.splice(2, 1); // drop admin
    expect(keys(policyFlows(objects))).not.toContain('admin -> bus:4222');
  });
});
