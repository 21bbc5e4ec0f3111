/**
 * Chromium for the portal tests: one browser per file, pages that report CSP and integrity
 * violations, axe-core's serious and critical findings, and a promise to hold a request with.
 */
import { existsSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { natsForTests, postgresAvailable, requireServices } from '@coffer/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { AdminStack } from './admin-stack.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/**
 * Whether a browser test can run here: Chromium, PostgreSQL and NATS. With services required
 * (COFFER_REQUIRE_SERVICES=1) a missing browser fails the file instead of skipping it.
 */
export async function browserTestsAvailable(): Promise<boolean> {
  if (!hasChromium && requireServices()) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium`);
  return hasChromium && (await postgresAvailable()) && (await natsForTests()) !== undefined;
}

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

/** Serves `stack`'s portal on a loopback port and starts Chromium to open it. */
export async function servePortal(stack: AdminStack): Promise<{ url: string; browser: Browser }> {
  const url = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  return { url, browser: await launchChromium() };
}

/** Closes what a browser test opened, each part only if it got that far: contexts, browser, stack. */
export async function closePortal(
  contexts: readonly BrowserContext[],
  browser: Browser | undefined,
  stack: AdminStack | undefined,
): Promise<void> {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stack?.close();
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

/**
 * axe-core on the page as it is now: how many rules pass, how many are violated, and the serious
 * and critical violations, as "rule: targets".
 */
export async function axeSerious(page: Page): Promise<{ passes: number; violations: number; serious: string[] }> {
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  return { passes: result.passes.length, violations: result.violations.length, serious };
}

/**
 * Signs in through the form at `url` (and its code step, given `code`), done once the app shows
 * its Sign out button.
 */
export async function signInThroughForm(
  page: Page,
  url: string,
  who: { email: string; password: string },
  code?: () => string,
): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (code) {
    await page.getByLabel('Authenticator code').fill(code());
    await page.getByRole('button', { name: 'Verify code' }).click();
  }
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
}

/** Opens a page from the main navigation; done once its heading shows. */
export async function go(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
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
