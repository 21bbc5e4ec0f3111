/**
 * The connections a set of Kubernetes NetworkPolicies allows, as flows between tiers. A pod's tier
 * is its namespace's `coffer.io/tier` label. A connection from pod A to pod B's port P is allowed
 * when A may send it (A is not isolated for egress, or an egress rule of a policy selecting A
 * matches B and P) and B may take it (likewise for ingress), and B listens on P. Parties outside
 * the cluster are named by the `coffer.io/outside` annotation of the policy whose ipBlock admits
 * them; other destinations are the cluster's DNS, the CloudNativePG operator and ipBlocks.
 * Selectors use matchLabels only; anything else is refused rather than guessed.
 */
import { containersOf, type K8sObject, podSpecOf } from './kustomize.ts';

interface Pod {
  readonly tier: string;
  readonly namespace: string;
  readonly namespaceLabels: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly ports: number[];
}

interface Peer {
  namespaceSelector?: Selector;
  podSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number; protocol?: string }[];
}
interface PolicySpec {
  podSelector: Selector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: Rule[];
  egress?: Rule[];
}

export interface TierFlow {
  readonly from: string;
  readonly to: string;
  readonly port: number;
}

const matches = (selector: Selector | undefined, labels: Record<string, string>): boolean => {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions are not supported here');
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
};

/** Pods outside Coffer's namespaces that the policies name as destinations or sources. */
const PLATFORM: Pod[] = [
  {
    tier: 'dns',
    namespace: 'kube-system',
    namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
    labels: { 'k8s-app': 'kube-dns' },
    ports: [53],
  },
  {
    tier: 'cnpg-operator',
    namespace: 'cnpg-system',
    namespaceLabels: { 'kubernetes.io/metadata.name': 'cnpg-system' },
    labels: { 'app.kubernetes.io/name': 'cloudnative-pg' },
    ports: [],
  },
];

export function podsOf(objects: K8sObject[]): Pod[] {
  const namespaces = new Map(
    objects
      .filter((o) => o.kind === 'Namespace')
      .map((o): [string, Record<string, string>] => [
        o.metadata.name,
        { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name },
      ]),
  );
  const pod = (namespace: string | undefined, labels: Record<string, string>, ports: number[]): Pod => {
    const namespaceLabels = namespaces.get(namespace ?? '');
    const tier = namespaceLabels?.['coffer.io/tier'];
    if (!namespace || !namespaceLabels || !tier) throw new Error(`pod in unknown namespace ${namespace}`);
    return { tier, namespace, namespaceLabels, labels, ports };
  };
  const pods: Pod[] = [];
  for (const o of objects) {
    const spec = podSpecOf(o);
    if (spec) {
      const template = (o.spec as { template: { metadata?: { labels?: Record<string, string> } } }).template;
      const ports = containersOf(o).flatMap((c) =>
        ((c.ports as { containerPort: number }[] | undefined) ?? []).map((p) => p.containerPort),
      );
      pods.push(pod(o.metadata.namespace, template.metadata?.labels ?? {}, ports));
    }
    // CloudNativePG's instance pods: PostgreSQL on 5432, the instance manager's status on 8000.
    if (o.kind === 'Cluster' && o.apiVersion.startsWith('postgresql.cnpg.io/')) {
      pods.push(pod(o.metadata.namespace, { 'cnpg.io/cluster': o.metadata.name }, [5432, 8000]));
    }
  }
  return pods;
}

const peerMatches = (peer: Peer, pod: Pod, policyNamespace: string): boolean => {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector, pod.namespaceLabels)
    : pod.namespace === policyNamespace;
  return nsOk && matches(peer.podSelector, pod.labels);
};
const portMatches = (rule: Rule, port: number): boolean =>
  !rule.ports || rule.ports.length === 0 || rule.ports.some((p) => p.port === undefined || p.port === port);

export function policyFlows(objects: K8sObject[]): TierFlow[] {
  const policies = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => ({ o, spec: o.spec as PolicySpec, ns: o.metadata.namespace ?? '' }));
  const pods = podsOf(objects);
  const selecting = (pod: Pod, type: 'Ingress' | 'Egress') =>
    policies.filter(
      ({ spec, ns }) =>
        ns === pod.namespace &&
        matches(spec.podSelector, pod.labels) &&
        (spec.policyTypes ?? ['Ingress']).includes(type),
    );
  // Pods outside Coffer's namespaces are governed by no policy here: they may send anything.
  const mayLeave = (a: Pod, b: Pod, port: number): boolean => {
    if (PLATFORM.includes(a)) return true;
    const ps = selecting(a, 'Egress');
    return (
      ps.length === 0 ||
      ps.some(({ spec, ns }) =>
        (spec.egress ?? []).some((r) => portMatches(r, port) && (r.to ?? []).some((p) => peerMatches(p, b, ns))),
      )
    );
  };
  const mayEnter = (b: Pod, a: Pod, port: number): boolean => {
    if (PLATFORM.includes(b)) return true;
    const ps = selecting(b, 'Ingress');
    return (
      ps.length === 0 ||
      ps.some(({ spec, ns }) =>
        (spec.ingress ?? []).some((r) => portMatches(r, port) && (r.from ?? []).some((p) => peerMatches(p, a, ns))),
      )
    );
  };

  const flows = new Map<string, TierFlow>();
  const add = (from: string, to: string, port: number) => flows.set(`${from}>${to}:${port}`, { from, to, port });
  const everyone = [...pods, ...PLATFORM];
  for (const a of everyone) {
    for (const b of everyone) {
      if (PLATFORM.includes(a) && PLATFORM.includes(b)) continue; // not ours to allow or deny
      for (const port of b.ports) if (mayLeave(a, b, port) && mayEnter(b, a, port)) add(a.tier, b.tier, port);
    }
  }
  // From outside: ipBlock ingress rules, named by the policy's coffer.io/outside annotation.
  for (const { o, spec } of policies) {
    for (const rule of spec.ingress ?? []) {
      if (!(rule.from ?? []).some((p) => p.ipBlock)) continue;
      const outside = o.metadata.annotations?.['coffer.io/outside'];
      if (!outside)
        throw new Error(`${o.metadata.namespace}/${o.metadata.name} admits an ipBlock but names no outside party`);
      for (const b of pods.filter((p) => p.namespace === o.metadata.namespace && matches(spec.podSelector, p.labels))) {
        for (const port of b.ports) if (portMatches(rule, port)) add(outside, b.tier, port);
      }
    }
    // To outside: ipBlock egress rules, as `ip:<cidr>` destinations.
    for (const rule of spec.egress ?? []) {
      for (const peer of (rule.to ?? []).filter((p) => p.ipBlock)) {
        for (const a of pods.filter(
          (p) => p.namespace === o.metadata.namespace && matches(spec.podSelector, p.labels),
        )) {
          for (const { port } of rule.ports ?? [])
            if (port !== undefined) add(a.tier, `ip:${peer.ipBlock?.cidr}`, port);
        }
      }
    }
  }
  return [...flows.values()];
}
