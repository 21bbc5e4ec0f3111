import { AdminReply, decodeJson, ProtocolError } from '@coffer/protocol';
import { describe, expect, it } from 'vitest';
import { AdminError, adminRouter } from './router.ts';

const logged: string[] = [];
const route = adminRouter(
  'vault.admin',
  {
    echo: async (data) => ({ bytes: data.length }),
    refuse: async () => {
      throw new AdminError('already-initialised', 'this vault is already initialised');
    },
    malformed: async () => {
      throw new ProtocolError('invalid at /v');
    },
    crash: async () => {
      throw new Error('connection reset; secret-ish internals');
    },
  },
  (msg) => logged.push(msg),
);
const call = async (operation: string) =>
  decodeJson(AdminReply, await route(new Uint8Array(3), `vault.admin.${operation}`));

describe('admin router', () => {
  it('answers each operation with its own handler', async () => {
    expect(await call('echo')).toEqual({ v: 1, ok: true, result: { bytes: 3 } });
  });

  it('turns refusals into named error replies, never exceptions on the bus', async () => {
    expect(await call('refuse')).toEqual({
      v: 1,
      ok: false,
      error: 'already-initialised',
      detail: 'this vault is already initialised',
    });
    expect(await call('malformed')).toEqual({ v: 1, ok: false, error: 'bad-request', detail: 'invalid at /v' });
    expect(await call('nope')).toEqual({ v: 1, ok: false, error: 'unknown-operation' });
    expect(await call('constructor')).toEqual({ v: 1, ok: false, error: 'unknown-operation' });
  });

  it('hides internal failures from the caller and logs them', async () => {
    expect(await call('crash')).toEqual({ v: 1, ok: false, error: 'internal' });
    expect(logged.at(-1)).toContain('connection reset');
  });
});
