/**
 * The customer page of `pnpm dev`: a small shop checkout on its own origin that loads the sealing
 * SDK with its integrity attribute and submits a card number sealed in the browser. It stands for
 * two things a customer runs: their page, and the static origin that serves the SDK file (here the
 * same server; in production a static host that is not ingest, see docs/operations.md).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BuiltSdk, buildSdk, scriptTag } from '@coffer/seal/build';

export interface DemoPage {
  readonly url: string;
  readonly sdk: BuiltSdk;
  readonly sdkUrl: string;
  close(): Promise<void>;
}

const PAGE_SCRIPT = `
const form = document.getElementById('checkout');
const status = document.getElementById('status');
const say = (state, text) => { status.dataset.state = state; status.textContent = text; };
if (!globalThis.Coffer || !globalThis.coffer) {
  say('sdk-refused', 'The sealing SDK did not load: its integrity check failed or it is missing. Nothing can be sent.');
  form.querySelector('button').disabled = true;
} else {
  say('ready', 'Ready. The card number is sealed in this browser; only the sealed form leaves it.');
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = form.elements.card;
  say('working', 'Sealing…');
  try {
    const sealed = await coffer.seal({ type: 'pan', value: input.value });
    input.value = '';
    say('working', 'Submitting the sealed card…');
    const accepted = await coffer.submit(sealed);
    say('stored', 'Stored: record ' + accepted.id + ' (card ending ' + accepted.hint + ').');
    status.dataset.recordId = accepted.id;
  } catch (err) {
    const code = Coffer.isSealError(err) ? err.code : 'Error';
    say('error', 'Refused (' + code + '): ' + err.message);
    status.dataset.code = code;
  }
});
`;

function page(tag: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Example shop — checkout</title>
${tag}
<script type="module" src="/demo.js"></script>
</head>
<body>
<main>
<h1>Example shop — checkout</h1>
<form id="checkout" autocomplete="off">
<label for="card">Card number</label>
<input id="card" name="card" inputmode="numeric" autocomplete="off" required>
<button type="submit">Pay</button>
</form>
<p id="status" role="status" aria-live="polite">Loading the sealing SDK…</p>
</main>
</body>
</html>
`;
}

/** Serve the demo page and the SDK (built for `trustRoot` and `ingestUrl`) on host:port. */
export async function startDemoPage(options: {
  readonly host: string;
  readonly port: number;
  readonly ingestUrl: string;
  readonly trustRoot: string;
}): Promise<DemoPage> {
  const sdk = await buildSdk({ trustRoot: options.trustRoot, ingest: options.ingestUrl });
  const sdkPath = `/sdk/${sdk.fileName}`;
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src ${new URL(options.ingestUrl).origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'x-content-type-options': 'nosniff', ...headers });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed');
    if (req.url === '/') {
      return send(200, 'text/html; charset=utf-8', page(scriptTag(sdkPath, sdk.integrity)), {
        'content-security-policy': csp,
        'cache-control': 'no-store',
      });
    }
    if (req.url === '/demo.js') return send(200, 'text/javascript', PAGE_SCRIPT);
    if (req.url === sdkPath) {
      // Content-hashed name: cacheable forever. CORS so a page on another origin can check its SRI.
      return send(200, 'text/javascript', sdk.code, {
        'cache-control': 'public, max-age=31536000, immutable',
        'access-control-allow-origin': '*',
      });
    }
    return send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  return {
    url: `${url}/`,
    sdk,
    sdkUrl: `${url}${sdkPath}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
