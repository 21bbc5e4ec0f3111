/**
 * The integrity checks behind `coffer monitor`: the data key bundle ingest publishes verifies
 * against the pinned trust root and its window covers now; the SDK file at its URL still hashes to
 * the pinned SRI value; a customer page still loads it with that integrity attribute; the key is the
 * one the vault calls current (a revocation rotation supersedes a key whose signed window has not
 * ended, so the signature alone cannot tell). Each check ends in a Nagios state (0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN: could not tell).
 */
import { createHash } from 'node:crypto';
import { bundleCovers, PublicKey, verifyDataKeyBundle } from '@coffer/crypto';

export const OK = 0;
export const WARNING = 1;
export const CRITICAL = 2;
export const UNKNOWN = 3;
export type State = typeof OK | typeof WARNING | typeof CRITICAL | typeof UNKNOWN;
export const STATE_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface MonitorTarget {
  readonly ingest: string;
  readonly trustRoot: string;
  readonly sdk?: string;
  readonly sri?: string;
  readonly page?: string;
  /** The vault's HTTP base URL: its /readyz names the key it calls current. */
  readonly vault?: string;
  /** WARNING when the current key's window ends sooner than this (0: never). */
  readonly warnBeforeMs: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

export interface CheckResult {
  readonly check: 'bundle' | 'sdk' | 'page' | 'vault';
  readonly state: State;
  readonly message: string;
  /** Seconds the current key stays valid (bundle check only). */
  readonly keyValidSeconds?: number;
  /** The verified bundle's key id (bundle check only). */
  readonly keyId?: string;
}

export interface Report {
  readonly state: State;
  readonly results: readonly CheckResult[];
}

const TIMEOUT_MS = 10_000;

async function get(fetchFn: typeof fetch, url: string): Promise<Response> {
  return fetchFn(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
}

const sriOf = (bytes: Uint8Array) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

async function checkBundle(t: MonitorTarget, fetchFn: typeof fetch, now: Date): Promise<CheckResult> {
  let res: Response;
  try {
    res = await get(fetchFn, `${t.ingest.replace(/\/+$/, '')}/v1/keys/current`);
  } catch (err) {
    return { check: 'bundle', state: UNKNOWN, message: `ingest unreachable (${(err as Error).message})` };
  }
  if (!res.ok) return { check: 'bundle', state: CRITICAL, message: `ingest offers no data key (HTTP ${res.status})` };
  try {
    const signed = (await res.json()) as { bundle?: unknown; signature?: unknown };
    const root = PublicKey.fromBase64url('ed25519', t.trustRoot);
    const bundle = verifyDataKeyBundle(root, signed.bundle, String(signed.signature), ['x25519', 'xwing']);
    if (!bundleCovers(bundle, now)) {
      return { check: 'bundle', state: CRITICAL, message: `data key ${bundle.id} is outside its window` };
    }
    const left = Date.parse(bundle.notAfter) - now.getTime();
    const keyValidSeconds = Math.floor(left / 1000);
    if (left < t.warnBeforeMs) {
      const hours = (left / 3_600_000).toFixed(1);
      const message = `data key ${bundle.id} ends in ${hours} h: check that the next window exists`;
      return { check: 'bundle', state: WARNING, message, keyValidSeconds, keyId: bundle.id };
    }
    return {
      check: 'bundle',
      state: OK,
      message: `data key ${bundle.id} verified, valid until ${bundle.notAfter}`,
      keyValidSeconds,
      keyId: bundle.id,
    };
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'invalid';
    return { check: 'bundle', state: CRITICAL, message: `bundle does not verify against the trust root (${code})` };
  }
}

async function checkSdk(fetchFn: typeof fetch, url: string, sri: string): Promise<CheckResult> {
  let res: Response;
  try {
    res = await get(fetchFn, url);
  } catch (err) {
    return { check: 'sdk', state: UNKNOWN, message: `SDK unreachable (${(err as Error).message})` };
  }
  if (!res.ok) return { check: 'sdk', state: CRITICAL, message: `SDK file answers HTTP ${res.status}` };
  const actual = sriOf(new Uint8Array(await res.arrayBuffer()));
  if (actual !== sri)
    return { check: 'sdk', state: CRITICAL, message: 'SDK file has changed: its hash is not the pinned SRI' };
  return { check: 'sdk', state: OK, message: 'SDK file matches its SRI' };
}

/** The vault's word on which key is current (its /readyz), against the key ingest publishes. */
async function checkVaultKey(
  fetchFn: typeof fetch,
  vault: string,
  published: string | undefined,
): Promise<CheckResult> {
  if (published === undefined)
    return { check: 'vault', state: UNKNOWN, message: 'no verified bundle to compare with the vault' };
  let keyId: unknown;
  try {
    // 503 (database or bus down) still names the key the vault last found.
    const body = (await (await get(fetchFn, `${vault.replace(/\/+$/, '')}/readyz`)).json()) as {
      dataKey?: { keyId?: unknown };
    };
    keyId = body.dataKey?.keyId;
  } catch (err) {
    return { check: 'vault', state: UNKNOWN, message: `vault unreachable (${(err as Error).message})` };
  }
  if (typeof keyId !== 'string') return { check: 'vault', state: UNKNOWN, message: 'the vault names no current key' };
  if (keyId !== published) {
    const message = `ingest publishes data key ${published}, the vault's current key is ${keyId}: superseded by a rotation, or not the vault's`;
    return { check: 'vault', state: CRITICAL, message };
  }
  return { check: 'vault', state: OK, message: `the vault's current key is ${keyId}` };
}

/** `<script>` tags of a page, each as its attributes (names lower-cased). */
export function scriptTags(html: string): Record<string, string>[] {
  const tags: Record<string, string>[] = [];
  for (const [, attrs = ''] of html.matchAll(/<script\b([^>]*)>/gi)) {
    const found: Record<string, string> = {};
    for (const [, name = '', v1, v2, v3] of attrs.matchAll(
      /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g,
    )) {
      found[name.toLowerCase()] = v1 ?? v2 ?? v3 ?? '';
    }
    tags.push(found);
  }
  return tags;
}

async function checkPage(t: MonitorTarget, fetchFn: typeof fetch): Promise<CheckResult> {
  const pageUrl = t.page as string;
  let html: string;
  try {
    const res = await get(fetchFn, pageUrl);
    if (!res.ok) return { check: 'page', state: CRITICAL, message: `page answers HTTP ${res.status}` };
    html = await res.text();
  } catch (err) {
    return { check: 'page', state: UNKNOWN, message: `page unreachable (${(err as Error).message})` };
  }
  const resolve = (src: string) => new URL(src, pageUrl).href;
  const tag = scriptTags(html).find((a) =>
    a.src ? (t.sdk ? resolve(a.src) === new URL(t.sdk).href : /coffer-seal\.[0-9a-f]+\.js$/.test(a.src)) : false,
  );
  if (!tag?.src) return { check: 'page', state: CRITICAL, message: 'page no longer loads the SDK' };
  if (!tag.integrity)
    return { check: 'page', state: CRITICAL, message: 'page loads the SDK without an integrity attribute' };
  if (t.sri && !tag.integrity.split(/\s+/).includes(t.sri)) {
    return { check: 'page', state: CRITICAL, message: 'page pins another SRI value than the expected one' };
  }
  if (!('crossorigin' in tag)) {
    return {
      check: 'page',
      state: CRITICAL,
      message: 'page loads the SDK without crossorigin: the browser cannot check SRI',
    };
  }
  // Without --sri: the file the page names must hash to what the page pins.
  if (!t.sri) {
    const sdk = await checkSdk(fetchFn, resolve(tag.src), tag.integrity);
    if (sdk.state !== OK) return { ...sdk, check: 'page' };
  }
  return { check: 'page', state: OK, message: 'page loads the SDK with its integrity attribute' };
}

/** Run every check the target names; the overall state is the worst (UNKNOWN below CRITICAL). */
export async function runChecks(t: MonitorTarget): Promise<Report> {
  const fetchFn = t.fetch ?? globalThis.fetch.bind(globalThis);
  const now = (t.now ?? (() => new Date()))();
  const bundle = await checkBundle(t, fetchFn, now);
  const results: CheckResult[] = [bundle];
  if (t.vault) results.push(await checkVaultKey(fetchFn, t.vault, bundle.keyId));
  if (t.sdk && t.sri) results.push(await checkSdk(fetchFn, t.sdk, t.sri));
  if (t.page) results.push(await checkPage(t, fetchFn));
  const rank = (s: State) => [0, 1, 3, 2][s] as number; // OK < WARNING < UNKNOWN < CRITICAL
  const state = results.reduce<State>((worst, r) => (rank(r.state) > rank(worst) ? r.state : worst), OK);
  return { state, results };
}

/** One Nagios status line, with performance data. */
export function statusLine(report: Report): string {
  const worst = report.results.filter((r) => r.state === report.state);
  const shown = report.state === OK ? report.results : worst;
  const perf = report.results.find((r) => r.keyValidSeconds !== undefined)?.keyValidSeconds;
  const text = shown.map((r) => `${r.check}: ${r.message}`).join('; ');
  return `COFFER ${STATE_NAMES[report.state]} - ${text}${perf === undefined ? '' : ` | key_valid_seconds=${perf}`}`;
}

/** The same report as Prometheus text exposition. */
export function metrics(report: Report, at: Date): string {
  const lines = [
    '# HELP coffer_monitor_status Overall state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.',
    '# TYPE coffer_monitor_status gauge',
    `coffer_monitor_status ${report.state}`,
    '# HELP coffer_monitor_check_status State of each check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.',
    '# TYPE coffer_monitor_check_status gauge',
    ...report.results.map((r) => `coffer_monitor_check_status{check="${r.check}"} ${r.state}`),
    '# HELP coffer_monitor_last_run_timestamp_seconds When the checks last ran.',
    '# TYPE coffer_monitor_last_run_timestamp_seconds gauge',
    `coffer_monitor_last_run_timestamp_seconds ${Math.floor(at.getTime() / 1000)}`,
  ];
  const valid = report.results.find((r) => r.keyValidSeconds !== undefined)?.keyValidSeconds;
  if (valid !== undefined) {
    lines.push(
      '# HELP coffer_monitor_key_valid_seconds Seconds the published data key stays valid.',
      '# TYPE coffer_monitor_key_valid_seconds gauge',
      `coffer_monitor_key_valid_seconds ${valid}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
