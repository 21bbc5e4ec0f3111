/**
 * A private rsyslog (Debian's rsyslogd with imtcp and the GnuTLS stream driver) listening for
 * RFC 5425 syslog over TLS on a free loopback port, writing each message's raw text, one per
 * line, to a file in its own temp dir: the SIEM receiver of the audit-streaming tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@coffer/testkit';
import { listensOn } from './ports.ts';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

export function rsyslogAvailable(): boolean {
  if (!existsSync(RSYSLOGD)) return false;
  return ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog', '/usr/lib/rsyslog'].some((d) =>
    existsSync(path.join(d, 'lmnsd_gtls.so')),
  );
}

export interface Rsyslog {
  readonly port: number;
  /** The messages received so far, raw (PRI, header, structured data, MSG), in arrival order. */
  messages(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startRsyslog(tls: { ca: string; cert: string; key: string }): Promise<Rsyslog> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coffer-rsyslog-'));
  // freePort's port is free only until it is let go: another process may bind it before rsyslogd
  // does, which then logs the error and runs on without its listener. Start again on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(tls, dir, await freePort());
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 5) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

class PortTaken extends Error {}

async function launch(tls: { ca: string; cert: string; key: string }, dir: string, port: number): Promise<Rsyslog> {
  const out = path.join(dir, 'received.log');
  const conf = path.join(dir, 'rsyslog.conf');
  await writeFile(
    conf,
    `global(workDirectory="${dir}" maxMessageSize="64k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="${tls.ca}"
  defaultNetstreamDriverCertFile="${tls.cert}"
  defaultNetstreamDriverKeyFile="${tls.key}")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="siem") { action(type="omfile" file="${out}" template="raw" flushOnTXEnd="on" asyncWriting="off") }
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="siem")
`,
  );
  const log: string[] = [];
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => log.push(String(d)));
  child.stderr?.on('data', (d) => log.push(String(d)));
  const deadline = Date.now() + 15_000;
  // rsyslogd itself must hold the port: a port taken first answers a connect all the same.
  while (!(await listensOn(child.pid as number, port))) {
    const said = log.join('');
    if (child.exitCode !== null || Date.now() > deadline || /already in use/i.test(said)) {
      child.kill('SIGKILL');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      if (/already in use/i.test(said)) throw new PortTaken(said);
      throw new Error(`rsyslogd did not start: ${said}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async messages() {
      const text = await readFile(out, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l !== '');
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
