/**
 * The load generator of `pnpm bench:ingest`, run as its own process so that it does not share an
 * event loop with the server it measures: autocannon POSTs a fresh Luhn-valid PAN on every
 * request, first for a warm-up, then for the measured run; it prints `measuring` when the measured
 * run starts and both results as one JSON line at the end. Usage: node --import tsx bench/load.ts '<LoadOptions as JSON>'.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { randomPan } from './pan.ts';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /**
   * For an https:// target: a CA certificate file (PEM) handed to the TLS client. autocannon 9
   * connects with rejectUnauthorized: false whatever it is given, so this does not make it verify
   * the server; the caller checks the server's certificate once itself (see bench/tls.bench.ts).
   */
  readonly tlsCa?: string;
}

export interface LoadSummary {
  readonly seconds: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly sent: number;
  readonly statusCodes: Record<string, number>;
  /** Latencies in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

async function run(options: LoadOptions, seconds: number): Promise<LoadSummary> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(options.tlsCa ? { tlsOptions: { ca: readFileSync(options.tlsCa, 'utf8') } } : {}),
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ type: 'pan', value: randomPan() }) }) }],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) statusCodes[code] = stat.count;
  return {
    seconds: result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    sent: result.requests.sent,
    statusCodes,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
  };
}

if (process.argv[1] === import.meta.filename) {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
  const warmup = await run(options, options.warmupSeconds);
  // Tells the parent when the measured part starts, so it can sample its own CPU time over it.
  process.stdout.write('measuring\n');
  const measured = await run(options, options.seconds);
  process.stdout.write(`${JSON.stringify({ warmup, measured })}\n`);
}
