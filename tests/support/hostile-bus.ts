/**
 * A hostile bus operator for tests: a TCP proxy between NATS clients and a real nats-server that
 * parses the client protocol in both directions and lets a test rewrite, drop, hold back and
 * replay chosen messages by subject. Everything it does not intercept (INFO, CONNECT, SUB, UNSUB,
 * PING, PONG, +OK, -ERR and unmatched messages) is forwarded byte for byte, in order.
 *
 * It knows only the NATS protocol and Coffer's subject names (`[<namespace>.]vault.admin.<op>`,
 * see busNames in @coffer/protocol), never a message's meaning: a test decides what to change.
 * Plain TCP only (the TLS handshake would be opaque to it); point a client's URL at `url`.
 *
 *   client --PUB/HPUB ('publish')--> proxy --> nats-server --MSG/HMSG ('deliver')--> proxy --> client
 */
import net from 'node:net';

export type Direction = 'publish' | 'deliver';

/** A NATS header block: the version line's status (e.g. '503', or '' for plain headers) and fields. */
export interface Headers {
  readonly status: string;
  readonly fields: readonly (readonly [string, string])[];
}

/** One message as it crosses the proxy. Rewrite by returning a changed copy from a handler. */
export interface BusMessage {
  readonly direction: Direction;
  readonly subject: string;
  readonly reply: string | undefined;
  readonly headers: Headers | undefined;
  readonly payload: Buffer;
  /** The subscription id of a delivery (MSG/HMSG); meaningful only on the connection it came on. */
  readonly sid: string | undefined;
  /** Which client connection it crossed (1, 2, … in accept order). */
  readonly connection: number;
}

/**
 * What a handler decides: `undefined` forwards the message unchanged, 'drop' forwards nothing, a
 * message forwards that instead, an array forwards each (so returning `[m, m]` duplicates it).
 */
export type Verdict = BusMessage | readonly BusMessage[] | 'drop' | undefined;

export type SubjectMatch = string | RegExp | ((subject: string) => boolean);

export interface Interception {
  /** Messages this rule matched, as they arrived (before the handler changed them). */
  readonly seen: BusMessage[];
  /** Wait for the next (or the `n`th overall) match. */
  next(n?: number, timeoutMs?: number): Promise<BusMessage>;
  /** Stop intercepting. */
  off(): void;
}

type Handler = (msg: BusMessage) => Verdict | Promise<Verdict>;

interface Rule {
  readonly match: (msg: BusMessage) => boolean;
  readonly handle: Handler;
  readonly seen: BusMessage[];
  readonly waiters: { n: number; resolve: (m: BusMessage) => void }[];
  /** Remove the rule after this many matches (reply rules: one reply per request). */
  remaining: number;
}

/** Subject of a vault admin operation, with or without the test namespace prefix busNames adds. */
export function adminOperation(op: string): RegExp {
  return new RegExp(`^(?:[a-z0-9_]{1,32}\\.)?vault\\.admin\\.${op.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}$`);
}

function subjectMatcher(match: SubjectMatch): (subject: string) => boolean {
  if (typeof match === 'string') return (s) => s === match;
  if (match instanceof RegExp) return (s) => match.test(s);
  return match;
}

/** The payload as JSON, for handlers that rewrite fields. */
export function json<T = Record<string, unknown>>(msg: BusMessage): T {
  return JSON.parse(msg.payload.toString('utf8')) as T;
}

/** A copy of `msg` with `payload` replaced by this value's JSON. */
export function withJson(msg: BusMessage, value: unknown): BusMessage {
  return { ...msg, payload: Buffer.from(JSON.stringify(value)) };
}

/**
 * A copy of a `vault.admin.*` reply whose v1 envelope (`{v, ok, result}`) `change` rewrote, as a
 * bus operator would: inside a signed envelope (v2) the signed text is replaced and the
 * signature, key and certificate are left as they were.
 */
export function rewriteAdminReply(msg: BusMessage, change: (reply: Record<string, unknown>) => unknown): BusMessage {
  const outer = json<Record<string, unknown>>(msg);
  if (outer.v === 2 && typeof outer.reply === 'string') {
    const inner = JSON.parse(outer.reply) as Record<string, unknown>;
    return withJson(msg, { ...outer, reply: JSON.stringify(change(inner)) });
  }
  return withJson(msg, change(outer));
}

/** The v1 envelope of a `vault.admin.*` reply, signed (v2) or not. */
export function adminReplyBody<T = Record<string, unknown>>(msg: BusMessage): T {
  const outer = json<Record<string, unknown>>(msg);
  return (outer.v === 2 && typeof outer.reply === 'string' ? JSON.parse(outer.reply) : outer) as T;
}

/** The first value of a header field (case-insensitive name), if present. */
export function header(msg: BusMessage, name: string): string | undefined {
  return msg.headers?.fields.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

const CRLF = Buffer.from('\r\n');

function parseHeaders(block: Buffer): Headers {
  const lines = block.toString('utf8').split('\r\n');
  const version = lines.shift() ?? '';
  if (!version.startsWith('NATS/1.0')) throw new Error(`bad header block: ${JSON.stringify(version)}`);
  const fields: [string, string][] = [];
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { status: version.slice('NATS/1.0'.length).trim(), fields };
}

function encodeHeaders(h: Headers): Buffer {
  const version = h.status ? `NATS/1.0 ${h.status}` : 'NATS/1.0';
  return Buffer.from(`${[version, ...h.fields.map(([k, v]) => `${k}: ${v}`)].join('\r\n')}\r\n\r\n`);
}

/** The wire bytes of a message: PUB/HPUB when published, MSG/HMSG (needs a sid) when delivered. */
export function encodeMessage(msg: BusMessage): Buffer {
  const head = msg.headers ? encodeHeaders(msg.headers) : undefined;
  const total = (head?.length ?? 0) + msg.payload.length;
  const verb = msg.direction === 'publish' ? (head ? 'HPUB' : 'PUB') : head ? 'HMSG' : 'MSG';
  if (msg.direction === 'deliver' && !msg.sid) throw new Error('a delivered message needs its sid');
  const parts = [
    verb,
    msg.subject,
    ...(msg.direction === 'deliver' ? [msg.sid] : []),
    ...(msg.reply ? [msg.reply] : []),
  ];
  const sizes = head ? `${head.length} ${total}` : `${total}`;
  return Buffer.concat([Buffer.from(`${parts.join(' ')} ${sizes}\r\n`), head ?? Buffer.alloc(0), msg.payload, CRLF]);
}

type Frame = { kind: 'raw'; bytes: Buffer } | { kind: 'message'; message: BusMessage };

/**
 * Splits one direction's byte stream into frames. Message frames are PUB/HPUB (publish) or
 * MSG/HMSG (deliver); every other line (and its JSON argument) is passed on as raw bytes.
 */
class FrameParser {
  #buffer: Buffer = Buffer.alloc(0);
  constructor(
    private readonly direction: Direction,
    private readonly connection: number,
  ) {}

  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const frames: Frame[] = [];
    for (;;) {
      const eol = this.#buffer.indexOf(CRLF);
      if (eol < 0) break;
      const line = this.#buffer.subarray(0, eol).toString('latin1');
      const [verb = '', ...args] = line.split(/[ \t]+/).filter((s) => s !== '');
      const upper = verb.toUpperCase();
      const isMessage =
        this.direction === 'publish' ? upper === 'PUB' || upper === 'HPUB' : upper === 'MSG' || upper === 'HMSG';
      if (!isMessage) {
        frames.push({ kind: 'raw', bytes: this.#buffer.subarray(0, eol + 2) });
        this.#buffer = this.#buffer.subarray(eol + 2);
        continue;
      }
      const withHeaders = upper.startsWith('H');
      const total = Number(args.at(-1));
      const headerSize = withHeaders ? Number(args.at(-2)) : 0;
      const names = args.slice(0, withHeaders ? -2 : -1);
      const end = eol + 2 + total + 2;
      if (this.#buffer.length < end) break; // the payload has not all arrived yet
      const body = this.#buffer.subarray(eol + 2, eol + 2 + total);
      const [subject = '', ...rest] = names;
      const sid = this.direction === 'deliver' ? rest.shift() : undefined;
      frames.push({
        kind: 'message',
        message: {
          direction: this.direction,
          subject,
          reply: rest[0],
          sid,
          headers: withHeaders ? parseHeaders(body.subarray(0, headerSize)) : undefined,
          payload: Buffer.from(body.subarray(headerSize)),
          connection: this.connection,
        },
      });
      this.#buffer = this.#buffer.subarray(end);
    }
    return frames;
  }
}

interface Pipe {
  /** Write to the side this direction is heading to. */
  write(bytes: Buffer): void;
}

export interface HostileBus {
  /** nats://127.0.0.1:<port> — give this to the clients the bus operator stands in front of. */
  readonly url: string;
  /** Every message that crossed (after any rewrite), for assertions. */
  readonly log: BusMessage[];
  /** Handle messages published (PUB/HPUB) on matching subjects. */
  onPublish(subject: SubjectMatch, handle?: Handler): Interception;
  /** Handle messages delivered (MSG/HMSG) on matching subjects. */
  onDeliver(subject: SubjectMatch, handle?: Handler): Interception;
  /**
   * Handle the reply to each request on a matching subject, whichever way it crosses first: the
   * responder's PUB to the reply inbox if the responder is behind the proxy, else the MSG to the
   * requester. Each reply is handled once.
   */
  onReply(requestSubject: SubjectMatch, handle?: Handler): Interception;
  /**
   * Send a message again (or a forged one) on the connection it names, now or after `delayMs`:
   * a published message to the server, a delivered one to its client.
   */
  inject(msg: BusMessage, delayMs?: number): Promise<void>;
  /** Cut every proxied connection (the clients see the server go away). */
  disconnectAll(): void;
  close(): Promise<void>;
}

export async function startHostileBus(upstreamUrl: string): Promise<HostileBus> {
  const upstream = new URL(upstreamUrl);
  const rules: Rule[] = [];
  /** Called with every message before any rule: they arm reply rules, and never change a message. */
  const observers = new Set<(m: BusMessage) => void>();
  const log: BusMessage[] = [];
  const pipes = new Map<string, Pipe>(); // `${connection}:${direction}`
  const sockets = new Set<net.Socket>();
  let connections = 0;

  const addRule = (match: (m: BusMessage) => boolean, handle: Handler = () => undefined, remaining = Infinity) => {
    const rule: Rule = { match, handle, seen: [], waiters: [], remaining };
    rules.push(rule);
    return rule;
  };
  const interception = (rule: Rule, also: () => void = () => {}): Interception => ({
    seen: rule.seen,
    next(n = rule.seen.length + 1, timeoutMs = 10_000) {
      const have = rule.seen[n - 1];
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message #${n} within ${timeoutMs} ms`)), timeoutMs);
        rule.waiters.push({
          n,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    off() {
      const i = rules.indexOf(rule);
      if (i >= 0) rules.splice(i, 1);
      also();
    },
  });

  /** Run the first matching rule's handler; the message comes out as zero or more messages. */
  async function judge(msg: BusMessage): Promise<BusMessage[]> {
    for (const observe of observers) observe(msg);
    const rule = rules.find((r) => r.remaining > 0 && r.match(msg));
    if (!rule) return [msg];
    rule.remaining--;
    if (rule.remaining === 0) rules.splice(rules.indexOf(rule), 1);
    rule.seen.push(msg);
    for (const w of rule.waiters.filter((w) => w.n === rule.seen.length)) w.resolve(msg);
    const verdict = await rule.handle(msg);
    if (verdict === undefined) return [msg];
    if (verdict === 'drop') return [];
    return Array.isArray(verdict) ? [...verdict] : [verdict as BusMessage];
  }

  /** Frames of one direction are handled strictly in order, even when a handler awaits. */
  function relay(from: net.Socket, to: net.Socket, direction: Direction, connection: number): void {
    const parser = new FrameParser(direction, connection);
    let chain = Promise.resolve();
    pipes.set(`${connection}:${direction}`, { write: (bytes) => to.writable && to.write(bytes) });
    from.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = parser.push(chunk);
      } catch (err) {
        from.destroy(err as Error);
        return;
      }
      chain = chain.then(async () => {
        for (const frame of frames) {
          if (frame.kind === 'raw') {
            if (to.writable) to.write(frame.bytes);
            continue;
          }
          for (const out of await judge(frame.message)) {
            log.push(out);
            if (to.writable) to.write(encodeMessage(out));
          }
        }
      });
    });
  }

  const server = net.createServer((client) => {
    const connection = ++connections;
    const target = net.connect({ host: upstream.hostname, port: Number(upstream.port || 4222) });
    sockets.add(client);
    sockets.add(target);
    client.pause();
    target.once('connect', () => client.resume());
    relay(client, target, 'publish', connection);
    relay(target, client, 'deliver', connection);
    const end = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    for (const s of [client, target]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address() as net.AddressInfo;

  return {
    url: `nats://127.0.0.1:${address.port}`,
    log,
    onPublish(subject, handle) {
      const is = subjectMatcher(subject);
      return interception(addRule((m) => m.direction === 'publish' && is(m.subject), handle));
    },
    onDeliver(subject, handle) {
      const is = subjectMatcher(subject);
      return interception(addRule((m) => m.direction === 'deliver' && is(m.subject), handle));
    },
    onReply(requestSubject, handle) {
      // One rule per request seen (either way it crosses), each removed after its one reply.
      const is = subjectMatcher(requestSubject);
      const replies = addRule(() => false, handle); // holds `seen` and waiters for all replies
      const armed = new Set<string>();
      const watch = (m: BusMessage) => {
        if (!is(m.subject) || !m.reply || armed.has(m.reply)) return;
        armed.add(m.reply);
        const inbox = m.reply;
        const one = addRule(
          (r) => r.subject === inbox,
          async (r) => {
            replies.seen.push(r);
            for (const w of replies.waiters.filter((w) => w.n === replies.seen.length)) w.resolve(r);
            return (handle ?? (() => undefined))(r);
          },
          1,
        );
        // Reply rules go first: a reply inbox is never also a request subject.
        rules.splice(rules.indexOf(one), 1);
        rules.unshift(one);
      };
      observers.add(watch);
      return interception(replies, () => observers.delete(watch));
    },
    async inject(msg, delayMs = 0) {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const pipe = pipes.get(`${msg.connection}:${msg.direction}`);
      if (!pipe) throw new Error(`no connection ${msg.connection}`);
      log.push(msg);
      pipe.write(encodeMessage(msg));
    },
    disconnectAll() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
