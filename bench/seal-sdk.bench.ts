/**
 * `pnpm bench:seal-sdk`: the browser SDK's size (minified, gzip) and the time of one `coffer.seal`
 * in headless Chromium (verify the bundle, validate, HPKE seal), per type. Needs `pnpm dev` running
 * (it reads .coffer/dev.json for the demo page). The first seal fetches the bundle; later ones may
 * take it from the browser cache (max-age 60), as a page sealing several values would.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { buildSdk } from '@coffer/seal/build';
import { chromium } from 'playwright-core';
import { machine } from './measure.ts';

const dev = JSON.parse(readFileSync('.coffer/dev.json', 'utf8')) as { demoUrl: string; trustRoot: string };
const sdk = await buildSdk({ trustRoot: dev.trustRoot });
process.stdout.write(`${machine()}\n\nSDK: ${sdk.code.length} bytes minified, ${gzipSync(sdk.code).length} gzip\n\n`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage();
await page.goto(dev.demoUrl);
await page.waitForSelector('#status[data-state=ready]');
const N = 200;
process.stdout.write('| type | seals | median ms | p95 ms |\n|---|---:|---:|---:|\n');
for (const [type, value] of [
  ['pan', '4111 1111 1111 1111'],
  ['ssn', '123-45-6789'],
  ['secret', 'x'.repeat(1024)],
] as const) {
  const times = (await page.evaluate(
    async ([t, v, n]) => {
      const c = (globalThis as unknown as { coffer: { seal(x: unknown): Promise<unknown> } }).coffer;
      await c.seal({ type: t, value: v }); // warm: module, key import, bundle fetch
      const out: number[] = [];
      for (let i = 0; i < (n as number); i++) {
        const start = performance.now();
        await c.seal({ type: t, value: v });
        out.push(performance.now() - start);
      }
      return out;
    },
    [type, value, N] as const,
  )) as number[];
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.floor(q * (times.length - 1))] as number).toFixed(2);
  process.stdout.write(`| ${type} | ${N} | ${at(0.5)} | ${at(0.95)} |\n`);
}
await browser.close();
