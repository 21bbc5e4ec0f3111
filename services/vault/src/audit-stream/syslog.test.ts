import { describe, expect, it } from 'vitest';
import { eventHash } from '../audit.ts';
import { firstBreak, type StreamedEvent } from './event.ts';
import { octetFrame, syslogMessage } from './syslog.ts';

const GENESIS = '00'.repeat(32);

function chain(n: number): StreamedEvent[] {
  const out: StreamedEvent[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const stored = {
      seq,
      at: `2026-12-02T04:00:0${seq % 10}.000Z`,
      actor: 'u-1',
      action: 'record.reveal',
      target: `r-${seq}`,
      reason: 'ticket “42”',
      outcome: seq % 2 ? ('success' as const) : ('denied' as const),
      origin: '127.0.0.1 Mözilla',
      details: { n: seq },
    };
    const hash = eventHash(Buffer.from(prev, 'hex'), stored).toString('hex');
    out.push({ v: 1, ...stored, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('streamed audit events', () => {
  it('formats RFC 5424: authpriv notice or warning, MSGID the action, seq and hashes as structured data', () => {
    const [ok, denied] = chain(2) as [StreamedEvent, StreamedEvent];
    const line = syslogMessage(ok, 'vault-1');
    expect(line).toBe(
      `<85>1 ${ok.at} vault-1 coffer-vault - record.reveal [coffer@32473 seq="1" hash="${ok.hash}" prev="${GENESIS}"] \u{feff}${JSON.stringify(ok)}`,
    );
    expect(syslogMessage(denied, 'vault-1').startsWith('<84>1 ')).toBe(true);
    // Header fields are printable ASCII without spaces, whatever the input.
    expect(
      syslogMessage({ ...ok, action: 'a b\nc' }, 'host name é')
        .split(' ')
        .slice(2, 5),
    ).toEqual(['hostname', 'coffer-vault', '-']);
  });

  it('frames each message with its length in bytes (RFC 5425 octet counting), multibyte text included', () => {
    const message = syslogMessage((chain(1) as [StreamedEvent])[0], 'h');
    const frame = octetFrame(message);
    const space = frame.indexOf(0x20);
    expect(Number(frame.subarray(0, space).toString())).toBe(Buffer.byteLength(message));
    expect(frame.subarray(space + 1).toString('utf8')).toBe(message);
  });

  it('lets a receiver verify the chain, and names a gap, a repeat or an edited event', () => {
    const events = chain(5);
    expect(firstBreak(events, GENESIS)).toBeNull();
    expect(firstBreak(events.slice(2), events[1]?.hash)).toBeNull();
    expect(firstBreak([...events.slice(0, 2), ...events.slice(3)], GENESIS)).toBe(4);
    expect(firstBreak([...events.slice(0, 3), events[2] as StreamedEvent], GENESIS)).toBe(3);
    const edited = events.map((e) => (e.seq === 3 ? { ...e, target: 'r-other' } : e));
    expect(firstBreak(edited, GENESIS)).toBe(3);
  });
});
