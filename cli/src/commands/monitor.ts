/**
 * `coffer monitor --ingest URL --trust-root ROOT [--sdk URL --sri sha384-…] [--page URL] [--vault URL]`
 *   --once               run the checks once, print one Nagios status line, exit 0/1/2/3
 *   --serve [--port N]   expose the latest checks as Prometheus metrics on /metrics
 *   (neither)            print a status line every --interval seconds (default 60)
 */
import { createServer } from 'node:http';
import { parseArgs } from '../args.ts';
import { metrics, type Report, runChecks, statusLine, UNKNOWN } from '../monitor.ts';

const USAGE =
  'usage: coffer monitor --ingest URL --trust-root ROOT [--sdk URL --sri sha384-…] [--page URL] [--vault URL] ' +
  '[--once | --serve [--port 9464] [--host 127.0.0.1]] [--interval 60] [--warn-hours 24]';

export async function monitorCommand(argv: string[]): Promise<void> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    process.stdout.write(`COFFER UNKNOWN - ${(err as Error).message}\n${USAGE}\n`);
    process.exit(UNKNOWN);
  }
  if (!values.ingest || !values['trust-root'] || Boolean(values.sdk) !== Boolean(values.sri)) {
    process.stdout.write(`COFFER UNKNOWN - ${USAGE}\n`);
    process.exit(UNKNOWN);
  }
  const target = {
    ingest: values.ingest,
    trustRoot: values['trust-root'],
    ...(values.sdk ? { sdk: values.sdk } : {}),
    ...(values.sri ? { sri: values.sri } : {}),
    ...(values.page ? { page: values.page } : {}),
    ...(values.vault ? { vault: values.vault } : {}),
    warnBeforeMs: Number(values['warn-hours']) * 3_600_000,
  };
  const check = async (): Promise<Report> => {
    try {
      return await runChecks(target);
    } catch (err) {
      return { state: UNKNOWN, results: [{ check: 'bundle', state: UNKNOWN, message: (err as Error).message }] };
    }
  };
  if (values.once) {
    const report = await check();
    process.stdout.write(`${statusLine(report)}\n`);
    process.exit(report.state);
  }
  const intervalMs = Math.max(5, Number(values.interval)) * 1000;
  if (values.serve) {
    let latest = { report: await check(), at: new Date() };
    setInterval(async () => {
      latest = { report: await check(), at: new Date() };
    }, intervalMs);
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics(latest.report, latest.at));
    });
    server.listen(Number(values.port), values.host, () => {
      process.stdout.write(`coffer monitor: metrics on http://${values.host}:${values.port}/metrics\n`);
    });
    return new Promise(() => {});
  }
  for (;;) {
    process.stdout.write(`${new Date().toISOString()} ${statusLine(await check())}\n`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      ingest: { type: 'string' },
      'trust-root': { type: 'string' },
      sdk: { type: 'string' },
      sri: { type: 'string' },
      page: { type: 'string' },
      vault: { type: 'string' },
      once: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      port: { type: 'string', default: '9464' },
      host: { type: 'string', default: '127.0.0.1' },
      interval: { type: 'string', default: '60' },
      'warn-hours': { type: 'string', default: '24' },
    },
  });
}
