/** The report of bench/tls.bench.ts: markdown for docs/benchmarks.md and the --json object. */
import { totalmem } from 'node:os';
import { machine } from './measure.ts';
import { fmt, percentile } from './reveal-support.ts';
import type { LoadRun } from './tls-support.ts';

export type Variant = 'plain' | 'tls';
export const VARIANTS: readonly Variant[] = ['plain', 'tls'];

export interface Measured {
  readonly settings: { rounds: number; warmupSeconds: number; seconds: number; connections: number };
  readonly reveals: number;
  readonly revealWarmup: number;
  /** Protocol and cipher of the HTTPS connection the bench checked ingest's certificate on. */
  readonly negotiated: string;
  readonly loadAverage: { start: number[]; afterIngest: number[]; end: number[] };
  readonly runs: Record<Variant, LoadRun[]>;
  /** Reveal server times, milliseconds. */
  readonly revealTimes: Record<Variant, number[]>;
  readonly stored: Record<Variant, number>;
  readonly accepted: Record<Variant, number>;
}

/** The middle value; the mean of the two middle ones for an even count. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const ms = (n: number) => fmt(n, n < 10 ? 2 : 1);
const pct = (tls: number, plain: number) => `${tls >= plain ? '+' : ''}${fmt((100 * (tls - plain)) / plain, 1)} %`;

export function tlsReport(m: Measured): { report: string; json: unknown } {
  const ingest = Object.fromEntries(
    VARIANTS.map((v) => [
      v,
      {
        rps: median(m.runs[v].map((r) => r.measured.ok / r.measured.seconds)),
        p50Ms: median(m.runs[v].map((r) => r.measured.p50)),
        p99Ms: median(m.runs[v].map((r) => r.measured.p99)),
        non2xx: m.runs[v].reduce((n, r) => n + r.measured.non2xx + r.measured.errors, 0),
        cores: Object.fromEntries(
          ['ingest', 'vault', 'nats'].map((n) => [n, median(m.runs[v].map((r) => r.cores[n] ?? Number.NaN))]),
        ),
      },
    ]),
  ) as Record<Variant, { rps: number; p50Ms: number; p99Ms: number; non2xx: number; cores: Record<string, number> }>;
  const revealStats = Object.fromEntries(
    VARIANTS.map((v) => [v, { p50Ms: percentile(m.revealTimes[v], 50), p99Ms: percentile(m.revealTimes[v], 99) }]),
  ) as Record<Variant, { p50Ms: number; p99Ms: number }>;
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
  const label = { plain: 'plain HTTP + NATS (passwords)', tls: 'HTTPS + NATS mutual TLS' };
  const lines = [
    `Machine: ${machine()}, ${Math.round(totalmem() / 2 ** 30)} GiB; run at ${new Date().toISOString().slice(0, 16)} UTC.`,
    `Load average (1, 5, 15 min): ${la(m.loadAverage.start)} at the start, ${la(m.loadAverage.afterIngest)} after the ingest rounds, ` +
      `${la(m.loadAverage.end)} at the end — the machine is shared, so every figure is under that load.`,
    '',
    `Ingest: ${m.settings.rounds} rounds per set-up, alternating, each ${m.settings.warmupSeconds} s warm-up then ${m.settings.seconds} s measured; ` +
      `autocannon 9.0.0 in its own process, ${m.settings.connections} keep-alive connections; 1 ingest worker; figures are medians over rounds (the mean of the two middle ones for an even count). ` +
      `HTTPS negotiated ${m.negotiated} (the bench checks ingest's certificate against the CA before loading it).`,
    '',
    '| ingest set-up | records/s | p50 ms | p99 ms | non-2xx + errors | CPU ingest | CPU vault | CPU nats-server |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...VARIANTS.map((v) => {
      const s = ingest[v];
      return (
        `| ${label[v]} | ${fmt(s.rps)} | ${s.p50Ms} | ${s.p99Ms} | ${s.non2xx} | ${s.cores.ingest?.toFixed(2)} | ` +
        `${s.cores.vault?.toFixed(2)} | ${s.cores.nats?.toFixed(2)} |`
      );
    }),
    `| TLS − plain | ${pct(ingest.tls.rps, ingest.plain.rps)} | ${pct(ingest.tls.p50Ms, ingest.plain.p50Ms)} | ` +
      `${pct(ingest.tls.p99Ms, ingest.plain.p99Ms)} | | | | |`,
    '',
    `Each round, records/s (p99 ms): ${VARIANTS.map(
      (v) =>
        `${v} ${m.runs[v].map((r) => `${fmt(r.measured.ok / r.measured.seconds)} (${r.measured.p99})`).join(', ')}`,
    ).join('; ')}.`,
    '',
    `Stored rows / 202s the load generator counted (warm-ups included; replies after its clock stopped are stored but not counted): plain ${fmt(m.stored.plain)} / ${fmt(m.accepted.plain)}, ` +
      `TLS ${fmt(m.stored.tls)} / ${fmt(m.accepted.tls)}.`,
    '',
    `Reveal: ${fmt(m.reveals)} per set-up after ${m.revealWarmup} warm-up, paired (one plain, one TLS, order alternating); ` +
      'server time is Fastify reply.elapsedTime of POST /api/records/:id/reveal.',
    '',
    '| reveal over | p50 ms | p99 ms |',
    '|---|---:|---:|',
    ...VARIANTS.map(
      (v) =>
        `| ${label[v].replace('plain HTTP + ', '').replace('HTTPS + ', '')} | ${ms(revealStats[v].p50Ms)} | ${ms(revealStats[v].p99Ms)} |`,
    ),
    `| TLS − plain | ${pct(revealStats.tls.p50Ms, revealStats.plain.p50Ms)} | ${pct(revealStats.tls.p99Ms, revealStats.plain.p99Ms)} |`,
  ];
  const json = {
    machine: machine(),
    loadAverage: m.loadAverage,
    ingest,
    reveal: revealStats,
    stored: m.stored,
    accepted: m.accepted,
  };
  return { report: lines.join('\n'), json };
}
