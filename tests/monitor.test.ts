/**
 * `coffer monitor --once` as an operator's Nagios would run it, against a real stack and the demo
 * page: 0 when all is well, 2 for a modified SDK file, a bundle signed by another key, a page
 * that loads the SDK without its integrity attribute, and a key that is not the vault's current
 * one; 1 when the key's window ends too soon.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { type DemoPage, metrics, runChecks, startDemoPage } from '@coffer/cli';
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentKeyId, HOST, ROOT, type Stack, startStack } from './support/stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const run = promisify(execFile);

/** `coffer monitor --once …`: exit code and its one line. */
async function monitor(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('pnpm', ['exec', 'tsx', 'cli/src/main.ts', 'monitor', '--once', ...args], {
      cwd: ROOT,
    });
    return { code: 0, out: stdout.trim() };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout.trim() };
  }
}

/** A tiny origin answering every GET with one body. */
async function serve(type: string, body: string | Uint8Array): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': type }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return { url: `http://${HOST}:${(server.address() as AddressInfo).port}`, server };
}

// Each case starts the CLI (tsx compiling every command): slow on a busy 2-core machine, not a hang.
describe.skipIf(!available)('coffer monitor --once', { timeout: 180_000 }, () => {
  let stack: Stack;
  let demo: DemoPage;
  const servers: Server[] = [];
  let modifiedSdk: string;
  let foreignIngest: string;
  let pageWithoutIntegrity: string;

  beforeAll(async () => {
    stack = await startStack();
    demo = await startDemoPage({
      host: HOST,
      port: 0,
      ingestUrl: stack.planes.ingestUrl,
      trustRoot: stack.planes.trustRoot,
    });
    const modified = await serve('text/javascript', Buffer.concat([demo.sdk.code, Buffer.from('\n;fetch("//evil")')]));
    modifiedSdk = `${modified.url}/coffer-seal.0000000000000000.js`;
    const now = Date.now();
    const bundle = {
      id: newRecordId(),
      publicKey: PrivateKey.generate('x25519').publicKey.toBase64url(),
      notBefore: new Date(now - 60_000).toISOString(),
      notAfter: new Date(now + 3_600_000).toISOString(),
    };
    const foreign = await serve(
      'application/json',
      JSON.stringify({ bundle, signature: signDataKeyBundle(PrivateKey.generate('ed25519'), bundle) }),
    );
    foreignIngest = foreign.url;
    const page = await serve('text/html', `<!doctype html><script type="module" src="${demo.sdkUrl}"></script>`);
    pageWithoutIntegrity = `${page.url}/`;
    servers.push(modified.server, foreign.server, page.server);
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await demo?.close();
    await stack?.close();
  });

  const good = () => [
    '--ingest',
    stack.planes.ingestUrl,
    '--trust-root',
    stack.planes.trustRoot,
    '--sdk',
    demo.sdkUrl,
    '--sri',
    demo.sdk.integrity,
    '--page',
    demo.url,
  ];
  const replace = (args: string[], flag: string, value: string) =>
    args.map((a, i) => (args[i - 1] === flag ? value : a));

  it('exits 0 with one OK line when the bundle, the file and the page are as pinned and the key is the vault’s', async () => {
    const { code, out } = await monitor([...good(), '--vault', stack.planes.vault.url]);
    expect(code, out).toBe(0);
    expect(out.split('\n')).toHaveLength(1);
    const key = currentKeyId(stack.planes.ceremony as NonNullable<typeof stack.planes.ceremony>);
    expect(out).toMatch(
      /^COFFER OK - bundle: data key .* verified.*vault: the vault's current key is .*sdk: SDK file matches.*page: .* \| key_valid_seconds=\d+$/,
    );
    expect(out).toContain(`vault: the vault's current key is ${key}`);
  });

  it.each([
    ['a modified SDK file', () => replace(good(), '--sdk', modifiedSdk), /sdk: SDK file has changed/],
    ['a bundle signed by another key', () => replace(good(), '--ingest', foreignIngest), /bundle: .*BadSignature/],
    [
      'a page without the integrity attribute',
      () => replace(good(), '--page', pageWithoutIntegrity),
      /page: .*without an integrity attribute/,
    ],
  ])('exits 2 for %s', async (_name, args, line) => {
    const { code, out } = await monitor(args());
    expect(code, out).toBe(2);
    expect(out).toMatch(/^COFFER CRITICAL - /);
    expect(out).toMatch(line);
  });

  it('exits 1 when the key window ends sooner than --warn-hours', async () => {
    const { code, out } = await monitor([...good(), '--warn-hours', '100000']);
    expect(code, out).toBe(1);
    expect(out).toMatch(/^COFFER WARNING - bundle: data key .* ends in/);
  });

  it('is CRITICAL when ingest publishes a validly signed key the vault no longer calls current', async () => {
    // The vault's /readyz after a revocation rotation, as a stale or compromised ingest would face it:
    // the superseded key's signed window has not ended, so only the vault can tell.
    const rotated = newRecordId();
    const vault = await serve(
      'application/json',
      JSON.stringify({
        status: 'ready',
        database: true,
        bus: true,
        dataKey: { degraded: false, keyId: rotated, reason: null },
      }),
    );
    servers.push(vault.server);
    const base = { ingest: stack.planes.ingestUrl, trustRoot: stack.planes.trustRoot, warnBeforeMs: 0 };
    const report = await runChecks({ ...base, vault: vault.url });
    expect(report.state).toBe(2);
    expect(report.results.find((r) => r.check === 'vault')).toMatchObject({
      state: 2,
      message: expect.stringContaining(`the vault's current key is ${rotated}: superseded by a rotation`),
    });
    expect(report.results.find((r) => r.check === 'bundle')?.state).toBe(0);
    expect(metrics(report, new Date(0))).toContain('coffer_monitor_check_status{check="vault"} 2');
  });

  it('checks a page on its own (no --sdk/--sri): the file it names must hash to what it pins', async () => {
    const base = { ingest: stack.planes.ingestUrl, trustRoot: stack.planes.trustRoot, warnBeforeMs: 0 };
    expect((await runChecks({ ...base, page: demo.url })).state).toBe(0);
    const report = await runChecks({ ...base, page: pageWithoutIntegrity });
    expect(report.state).toBe(2);
    const text = metrics(report, new Date(0));
    expect(text).toContain('coffer_monitor_status 2');
    expect(text).toContain('coffer_monitor_check_status{check="page"} 2');
    expect(text).toContain('coffer_monitor_check_status{check="bundle"} 0');
    expect(text).toMatch(/coffer_monitor_key_valid_seconds \d+/);
  });
});
