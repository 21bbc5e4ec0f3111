import { randomBytes } from 'node:crypto';
import { isCryptoError, open, PrivateKey, recordBinding, seal } from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { withSessionHolder } from './session-holder.ts';
import { wrapForSession } from './unwrap.ts';

describe('withSessionHolder', () => {
  const userKey = PrivateKey.generate('x25519');
  const token = randomBytes(32).toString('base64url');
  const material = {
    sessionId: 'session-1',
    userId: 'user-1',
    wrappedKey: wrapForSession(userKey, token, 'session-1', 'user-1'),
  };
  const binding = recordBinding('r', 'secret', 'dk');
  const blob = seal(userKey.publicKey, Buffer.from('x'), binding);
  const refused = (key: PrivateKey<'x25519' | 'xwing'>) => {
    try {
      open(key, blob, binding);
      return false;
    } catch (err) {
      return isCryptoError(err, 'InvalidKey');
    }
  };

  it('destroys the key-admin key once used: it opens inside, and nothing after', () => {
    let kept: PrivateKey<'x25519' | 'xwing'> | undefined;
    const opened = withSessionHolder(token, material, (holder) => {
      kept = holder.key;
      return open(holder.key, blob, binding).toString();
    });
    expect(opened).toBe('x');
    expect(kept && refused(kept)).toBe(true);
  });

  it('destroys it when the use throws too', () => {
    let kept: PrivateKey<'x25519' | 'xwing'> | undefined;
    expect(() =>
      withSessionHolder(token, material, (holder) => {
        kept = holder.key;
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(kept && refused(kept)).toBe(true);
  });
});
