/**
 * A page with a platform passkey authenticator of its own (Chrome DevTools' virtual WebAuthn):
 * resident keys, user verification and PRF, presence answered without a prompt, so a test can
 * register and assert passkeys in headless Chromium.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** A new page of `context` with a fresh virtual authenticator attached. */
export async function pageWithAuthenticator(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      hasPrf: true,
    },
  });
  return page;
}
