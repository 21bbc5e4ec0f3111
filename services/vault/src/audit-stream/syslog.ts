/**
 * RFC 5424 syslog over TLS (RFC 5425) to a SIEM's receiver. Each audit event is one message:
 * facility authpriv, severity notice (success) or warning (failure, denied); MSGID the action;
 * structured data `[coffer@32473 seq hash prev]` so a receiver that does not parse the JSON still
 * sees the chain; MSG the event's JSON line (streamed format v1, event.ts) after a UTF-8 BOM.
 * Frames are octet-counted ("LEN SP MSG", RFC 5425 §4.3): a message may hold any byte.
 *
 * TLS gives no application acknowledgement: a batch counts as sent once the TLS layer has
 * handed it to the kernel (the write callback). A vault that dies after that but before it
 * records its position sends that batch again after a restart; `seq` lets the receiver drop it.
 * 32473 is the enterprise number RFC 5612 reserves for documentation; an operator with their own
 * sets COFFER_AUDIT_SYSLOG_SDID (a receiver matching on it must then use that SD-ID).
 */
import os from 'node:os';
import tls from 'node:tls';
import type { StreamedEvent } from './event.ts';
import type { AuditSink } from './streamer.ts';

export interface SyslogOptions {
  readonly host: string;
  readonly port: number;
  /** PEM of the CA that signed the receiver's certificate (the receiver is always verified). */
  readonly ca: string;
  /** The name in the receiver's certificate, when it differs from `host`. */
  readonly servername?: string;
  /** A client certificate, for receivers that require one (PEM). */
  readonly cert?: string;
  readonly key?: string;
  /** HOSTNAME field; default this host's name. */
  readonly hostname?: string;
  readonly sdId?: string;
}

const AUTHPRIV = 10;
const TIMEOUT_MS = 10_000;
const BOM = '\u{feff}';
// RFC 5424 §6: header fields are PRINTUSASCII (33-126), bounded.
const printable = (s: string, max: number) => s.replace(/[^\x21-\x7e]/g, '').slice(0, max) || '-';

export function syslogMessage(e: StreamedEvent, hostname: string, sdId = 'coffer@32473'): string {
  const severity = e.outcome === 'success' ? 5 : 4;
  const sd = `[${sdId} seq="${e.seq}" hash="${e.hash}" prev="${e.prevHash}"]`;
  return `<${AUTHPRIV * 8 + severity}>1 ${e.at} ${printable(hostname, 255)} coffer-vault - ${printable(e.action, 32)} ${sd} ${BOM}${JSON.stringify(e)}`;
}

/** RFC 5425 octet counting: the length in bytes, a space, the message. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export class SyslogSink implements AuditSink {
  readonly name = 'syslog';
  readonly #options: SyslogOptions;
  #socket: tls.TLSSocket | undefined;

  constructor(options: SyslogOptions) {
    this.#options = options;
  }

  async #connect(): Promise<tls.TLSSocket> {
    if (this.#socket && !this.#socket.destroyed && this.#socket.writable) return this.#socket;
    const o = this.#options;
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        host: o.host,
        port: o.port,
        ca: o.ca,
        servername: o.servername ?? o.host,
        minVersion: 'TLSv1.2',
        ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
      });
      s.setTimeout(TIMEOUT_MS, () => s.destroy(new Error('syslog receiver: no TLS handshake in time')));
      s.once('secureConnect', () => {
        s.setTimeout(0);
        resolve(s);
      });
      s.once('error', reject);
    });
    // A receiver that hangs up is noticed at the next write; keep errors from crashing the process.
    socket.on('error', () => socket.destroy());
    this.#socket = socket;
    return socket;
  }

  async send(events: readonly StreamedEvent[]): Promise<void> {
    const socket = await this.#connect();
    const hostname = this.#options.hostname ?? os.hostname();
    const frames = Buffer.concat(events.map((e) => octetFrame(syslogMessage(e, hostname, this.#options.sdId))));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      // A receiver that stops reading must not hold the streaming lock (and a transaction) forever.
      const stalled = setTimeout(() => socket.destroy(new Error('syslog receiver: not reading')), TIMEOUT_MS);
      socket.write(frames, (err) => {
        clearTimeout(stalled);
        socket.off('error', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return;
    // end() flushes what is buffered and sends close_notify before the socket goes.
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 5000).unref();
    });
  }
}
