/**
 * Chromium for the portal tests: one browser per file, pages that report CSP and integrity
 * violations, axe-core's serious and critical findings, and a promise to hold a request with.
 */
import { existsSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collect CSP and SRI violations and page errors of `page` into `sink`. */
export async function watchViolations(page: Page, sink: string[]): Promise<void> {
  // The event also covers blocked styles, which do not always reach the console.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
  });
  page.on('console', (msg) => {
    if (/Content Security Policy|integrity/i.test(msg.text())) sink.push(msg.text());
  });
  page.on('pageerror', (err) => sink.push(`page error: ${err.message}`));
}

/** axe-core on the page as it is now: the serious and critical violations, as "rule: targets". */
export async function axeSerious(page: Page): Promise<{ passes: number; serious: string[] }> {
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  return { passes: result.passes.length, serious };
}

/** A gate: `wait` resolves once `open()` was called (to hold a routed request while a test looks). */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

export interface PageOptions {
  phone?: boolean;
  dark?: boolean;
  clipboard?: boolean;
  /** Start with this context's cookies: a page's clock is its whole context's, so fake it apart. */
  as?: BrowserContext;
}
export type Pages = ReturnType<typeof pages>;

/** Contexts at 1280×800 or 390×844, light or dark, en-US in UTC; every page watched for violations. */
export function pages(browser: Browser, violations: string[]) {
  const newPage = async (context: BrowserContext): Promise<Page> => {
    const page = await context.newPage();
    await watchViolations(page, violations);
    return page;
  };
  const open = async (options: PageOptions = {}) => {
    const context = await browser.newContext({
      ...(options.as ? { storageState: await options.as.storageState() } : {}),
      viewport: options.phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
      colorScheme: options.dark ? 'dark' : 'light',
      locale: 'en-US',
      timezoneId: 'UTC', // date filters are local days: make them UTC days, as tests seed them
      acceptDownloads: true,
      ...(options.clipboard ? { permissions: ['clipboard-read', 'clipboard-write'] } : {}),
    });
    return { context, page: await newPage(context) };
  };
  return { open, newPage };
}
