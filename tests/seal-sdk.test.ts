/**
 * The browser sealing SDK in Debian's headless Chromium against a real stack (PostgreSQL,
 * nats-server with the shipped permissions, vault, ingest, admin): the demo page seals a card in
 * the browser, no request carries the value in any encoding, the vault stores it and a person
 * reveals exactly what was typed. Bundles signed by another key, expired, or for another trust root
 * are refused with nothing sent; a modified SDK file is refused by the browser (SRI). Interop: what
 * the SDK seals in Chromium opens with libs/crypto, for every type.
 */
import { type DemoPage, type Planes, startDemoPage, startPlanes } from '@coffer/cli';
import { open, PrivateKey, recordBinding, signDataKeyBundle } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/http.ts';
import { browserTestsAvailable, launchChromium } from './support/portal-browser.ts';
import { BOOTSTRAP, HOST, type Infra, ingestLog, PLANES_DEFAULTS, startInfra, vaultLogger } from './support/stack.ts';

const available = await browserTestsAvailable();

const TYPED = '4000 0566 5566 5556';
const DIGITS = '4000056655665556';

/** Every spelling of the value a request could carry it in. */
function encodings(value: string): string[] {
  const forms = new Set<string>();
  for (const v of [value, value.replaceAll(' ', '')]) {
    const bytes = Buffer.from(v, 'utf8');
    forms.add(v);
    forms.add(JSON.stringify(v).slice(1, -1));
    forms.add(bytes.toString('base64').replace(/=+$/, ''));
    forms.add(bytes.toString('base64url'));
    forms.add(bytes.toString('hex'));
    forms.add(bytes.toString('hex').toUpperCase());
    forms.add(encodeURIComponent(v));
    forms.add(v.replaceAll(' ', '+'));
  }
  // Base64 of the value at the three byte offsets it could sit at inside a longer base64 string.
  for (const pad of ['', 'a', 'ab'])
    forms.add(
      Buffer.from(pad + DIGITS)
        .toString('base64')
        .slice(4, -4),
    );
  return [...forms].filter((f) => f.length >= 8);
}

interface Seen {
  readonly url: string;
  readonly method: string;
  readonly text: string;
}

function record(page: Page): Seen[] {
  const seen: Seen[] = [];
  page.on('request', (r) => {
    seen.push({
      url: r.url(),
      method: r.method(),
      text: `${r.url()}\n${JSON.stringify(r.headers())}\n${r.postData() ?? ''}`,
    });
  });
  return seen;
}

function leaks(seen: readonly Seen[]): string[] {
  const forms = encodings(TYPED);
  return seen.flatMap((s) => forms.filter((f) => s.text.includes(f)).map((f) => `${f} in ${s.method} ${s.url}`));
}

async function settle(page: Page): Promise<{ state: string; text: string; code: string | null }> {
  await page.waitForSelector('#status[data-state=stored], #status[data-state=error]', { timeout: 30_000 });
  return {
    state: (await page.getAttribute('#status', 'data-state')) as string,
    text: (await page.textContent('#status')) as string,
    code: await page.getAttribute('#status', 'data-code'),
  };
}

/** A signed bundle for a test org key, as GET /v1/keys/current answers. */
function bundleOf(org: PrivateKey<'ed25519'>, data: PrivateKey<'x25519' | 'xwing'>, from: number, to: number) {
  const bundle = {
    id: newRecordId(),
    // An X-Wing key is named (canonical v2); an X25519 one keeps the v1 bundle every build reads.
    ...(data.kind === 'xwing' ? { suite: 'xwing' as const } : {}),
    publicKey: data.publicKey.toBase64url(),
    notBefore: new Date(from).toISOString(),
    notAfter: new Date(to).toISOString(),
  };
  return { bundle, signature: signDataKeyBundle(org, bundle) };
}

/** Answer GET /v1/keys/current on `page` with `signed` instead of what ingest has. */
async function serveBundle(page: Page, ingestUrl: string, signed: unknown): Promise<void> {
  await page.route(`${ingestUrl}/v1/keys/current`, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      headers: { 'access-control-allow-origin': '*' },
      body: JSON.stringify(signed),
    }),
  );
}

/** One `coffer.seal` in the page, timed there. */
function timedSeal(page: Page, type: string, value: string) {
  return page.evaluate(
    async ([t, v]) => {
      const started = performance.now();
      const coffer = (globalThis as unknown as { coffer: { seal(x: unknown): Promise<unknown> } }).coffer;
      const sealed = await coffer.seal({ type: t, value: v });
      return { sealed, ms: performance.now() - started };
    },
    [type, value],
  ) as Promise<{ sealed: { id: string; keyId: string; sealed: string }; ms: number }>;
}

describe.skipIf(!available)('the browser sealing SDK in Chromium', () => {
  let infra: Infra;
  let planes: Planes;
  let demo: DemoPage;
  let browser: Browser;
  // A second org key: pages built for it trust a root the real stack does not sign with.
  const otherOrg = PrivateKey.generate('ed25519');
  let otherDemo: DemoPage;

  beforeAll(async () => {
    infra = await startInfra();
    const buses = {
      vault: await infra.connectBus('vault'),
      ingest: await infra.connectBus('ingest'),
      admin: await infra.connectBus('admin'),
    };
    planes = await startPlanes({
      sql: infra.runtime,
      buses,
      logs: {
        vault: vaultLogger(infra),
        ingest: ingestLog(infra),
        admin: pino({ name: 'admin' }, infra.capture('admin').stream),
      },
      ...PLANES_DEFAULTS,
    });
    demo = await startDemoPage({ host: HOST, port: 0, ingestUrl: planes.ingestUrl, trustRoot: planes.trustRoot });
    otherDemo = await startDemoPage({
      host: HOST,
      port: 0,
      ingestUrl: planes.ingestUrl,
      trustRoot: otherOrg.publicKey.toBase64url(),
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await otherDemo?.close();
    await planes?.close();
    await infra?.close();
  });

  it('seals a card in the page; no request carries it; stored, and revealed exactly as typed', async () => {
    // The search itself finds the value where it is (so an empty result below means something).
    expect(leaks([{ url: '', method: 'POST', text: JSON.stringify({ value: TYPED }) }])).not.toEqual([]);
    expect(leaks([{ url: '', method: 'POST', text: Buffer.from(`{"v":"${DIGITS}"}`).toString('base64') }])).not.toEqual(
      [],
    );
    const page = await browser.newPage();
    const seen = record(page);
    await page.goto(demo.url);
    await page.waitForSelector('#status[data-state=ready]');
    await page.fill('#card', TYPED);
    await page.click('#checkout button');
    const outcome = await settle(page);
    expect(outcome, outcome.text).toMatchObject({ state: 'stored' });
    const id = (await page.getAttribute('#status', 'data-record-id')) as string;
    expect(seen.some((s) => s.method === 'POST' && s.url === `${planes.ingestUrl}/v1/sealed-records`)).toBe(true);
    expect(leaks(seen)).toEqual([]);

    const row = await waitFor('the record in the vault', async () => {
      const [r] = await infra.runtime`SELECT hint, hint_source FROM records WHERE id = ${id}`;
      return r;
    });
    expect(row).toEqual({ hint: '5556', hint_source: 'client' });
    // What a root on the ingest host sees: its own output and what it put on the bus; none of it
    // holds the value. The stored row holds only the sealed blob.
    const outputs = [...infra.captures.entries()].map(([name, c]) => ({
      url: name,
      method: 'LOG',
      text: c.lines.join(''),
    }));
    expect(outputs.some((o) => o.url === 'ingest' && o.text.includes('/v1/sealed-records'))).toBe(true);
    expect(leaks(outputs)).toEqual([]);
    const [stored] = await infra.runtime`SELECT sealed FROM records WHERE id = ${id}`;
    expect(
      leaks([{ url: 'records.sealed', method: 'ROW', text: Buffer.from(stored?.sealed ?? []).toString('latin1') }]),
    ).toEqual([]);

    const adminUrl = planes.adminUrl as string;
    const signin = await fetch(`${adminUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: BOOTSTRAP.adminEmail, password: BOOTSTRAP.adminPassword }),
    });
    expect(signin.status).toBe(200);
    const cookie = (signin.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrf } = (await signin.json()) as { csrf: string };
    const res = await fetch(`${adminUrl}/api/records/${id}/reveal`, {
      method: 'POST',
      headers: { cookie, 'x-coffer-csrf': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'browser SDK test' }),
    });
    expect(await res.json()).toMatchObject({ id, type: 'pan', value: DIGITS });
    await page.close();
  });

  const now = Date.now();
  it.each([
    [
      'signed by another key',
      'BadSignature',
      () => bundleOf(PrivateKey.generate('ed25519'), PrivateKey.generate('x25519'), now - 60_000, now + 3_600_000),
      'stack',
    ],
    [
      'whose window has ended',
      'KeyExpired',
      () => bundleOf(otherOrg, PrivateKey.generate('x25519'), now - 7_200_000, now - 3_600_000),
      'other',
    ],
    ['for another trust root (the real ingest, a page built for another org)', 'BadSignature', undefined, 'other'],
  ] as const)('refuses a bundle %s: names the error and sends nothing', async (_name, code, signed, which) => {
    const target = which === 'stack' ? demo : otherDemo;
    const page = await browser.newPage();
    const seen = record(page);
    if (signed) await serveBundle(page, planes.ingestUrl, signed());
    await page.goto(target.url);
    await page.waitForSelector('#status[data-state=ready]');
    await page.fill('#card', TYPED);
    await page.click('#checkout button');
    const outcome = await settle(page);
    expect(outcome).toMatchObject({ state: 'error', code });
    expect(outcome.text).toContain(code);
    expect(seen.filter((s) => s.method !== 'GET')).toEqual([]);
    expect(leaks(seen)).toEqual([]);
    await page.close();
  });

  it('a modified SDK file: the browser refuses to run it (SRI), the page says so, nothing is sent', async () => {
    const page = await browser.newPage();
    const seen = record(page);
    await page.route(demo.sdkUrl, async (route) => {
      const original = await route.fetch();
      const body = `${await original.text()}\n;globalThis.stolen = true;`;
      await route.fulfill({ response: original, body });
    });
    await page.goto(demo.url);
    await page.waitForSelector('#status[data-state=sdk-refused]');
    expect(await page.evaluate('globalThis.stolen === undefined && globalThis.Coffer === undefined')).toBe(true);
    expect(await page.isDisabled('#checkout button')).toBe(true);
    expect(seen.some((s) => s.url.startsWith(planes.ingestUrl))).toBe(false);
    await page.close();
  });

  it('interop: what the SDK seals in Chromium opens with libs/crypto, for every type', async () => {
    const data = PrivateKey.generate('x25519');
    const signed = bundleOf(otherOrg, data, now - 60_000, now + 3_600_000);
    const page = await browser.newPage();
    await serveBundle(page, planes.ingestUrl, signed);
    await page.goto(otherDemo.url);
    await page.waitForSelector('#status[data-state=ready]');
    for (const [type, value, normalized] of [
      ['pan', '4111 1111 1111 1111', '4111111111111111'],
      ['ssn', '123456789', '123-45-6789'],
      ['secret', 'sealed in Chromium ✓ 🔐', 'sealed in Chromium ✓ 🔐'],
    ] as const) {
      const sealed = (await page.evaluate(
        ([t, v]) =>
          (globalThis as unknown as { coffer: { seal(x: unknown): Promise<unknown> } }).coffer.seal({
            type: t,
            value: v,
          }),
        [type, value],
      )) as { id: string; keyId: string; sealed: string; type: string };
      expect(sealed).toMatchObject({ type, keyId: signed.bundle.id });
      const blob = Buffer.from(sealed.sealed, 'base64');
      expect(open(data, blob, recordBinding(sealed.id, type, signed.bundle.id)).toString()).toBe(normalized);
    }
    await page.close();
  });

  it('interop (X-Wing): an X-Wing bundle gets an X-Wing seal in Chromium, which libs/crypto opens', async () => {
    const data = PrivateKey.generate('xwing');
    const signed = bundleOf(otherOrg, data, now - 60_000, now + 3_600_000);
    const page = await browser.newPage();
    await serveBundle(page, planes.ingestUrl, signed);
    await page.goto(otherDemo.url);
    await page.waitForSelector('#status[data-state=ready]');
    const times: number[] = [];
    for (const [type, value, normalized] of [
      ['pan', '4111 1111 1111 1111', '4111111111111111'],
      ['ssn', '123456789', '123-45-6789'],
      ['secret', 'sealed in Chromium with X-Wing', 'sealed in Chromium with X-Wing'],
    ] as const) {
      const { sealed, ms } = await timedSeal(page, type, value);
      times.push(ms);
      const blob = Buffer.from(sealed.sealed, 'base64');
      expect(blob.readUInt16BE(1)).toBe(0x647a);
      expect(open(data, blob, recordBinding(sealed.id, type, signed.bundle.id)).toString()).toBe(normalized);
    }
    // The same seals to an X25519 bundle in another page, interleaved, so the pair shares the load.
    const classical = await browser.newPage();
    await serveBundle(
      classical,
      planes.ingestUrl,
      bundleOf(otherOrg, PrivateKey.generate('x25519'), now - 60_000, now + 3_600_000),
    );
    await classical.goto(otherDemo.url);
    await classical.waitForSelector('#status[data-state=ready]');
    const classicalTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      classicalTimes.push((await timedSeal(classical, 'secret', `warm ${i}`)).ms);
      if (i < 17) times.push((await timedSeal(page, 'secret', `warm ${i}`)).ms);
    }
    await classical.close();
    const size = (await (await fetch(otherDemo.sdkUrl)).arrayBuffer()).byteLength;
    // Figures for docs/benchmarks.md, not assertions: seal = fetch the bundle (routed locally),
    // verify it, encapsulate, seal; the first includes the module's lazy setup.
    const median = (xs: number[]) =>
      xs
        .slice(1)
        .sort((x, y) => x - y)
        [Math.floor((xs.length - 1) / 2)]?.toFixed(1);
    console.info(
      `seal-sdk in Chromium: module ${size} bytes; X-Wing first seal ${times[0]?.toFixed(1)} ms, median ${median(times)} ms; ` +
        `X25519 first ${classicalTimes[0]?.toFixed(1)} ms, median ${median(classicalTimes)} ms (${times.length - 1} warm seals each)`,
    );
    await page.close();
  });

  it('a bundle for a suite this SDK does not know: UnsupportedSuite, nothing sent', async () => {
    const data = PrivateKey.generate('x25519');
    const signed = bundleOf(otherOrg, data, now - 60_000, now + 3_600_000);
    const page = await browser.newPage();
    const seen = record(page);
    await serveBundle(page, planes.ingestUrl, { ...signed, bundle: { ...signed.bundle, suite: 'kyber-9000' } });
    await page.goto(otherDemo.url);
    await page.waitForSelector('#status[data-state=ready]');
    await page.fill('#card', TYPED);
    await page.click('#checkout button');
    expect(await settle(page)).toMatchObject({ state: 'error', code: 'UnsupportedSuite' });
    expect(seen.filter((s) => s.method !== 'GET')).toEqual([]);
    await page.close();
  });
});
