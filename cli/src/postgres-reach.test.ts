import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertPostgresCanReach, postgresUser, unreachableDirectory } from './postgres-reach.ts';

const nobody = { uid: 65534, gids: [65534] };
const asRoot = process.getuid?.() === 0;

describe('finding the directory that keeps the postgres user out', () => {
  // mkdtemp makes a 0700 directory, like a root-only clone location.
  const closed = mkdtempSync(join(tmpdir(), 'coffer-reach-'));
  const clone = join(closed, 'coffer', 'node_modules');
  mkdirSync(clone, { recursive: true, mode: 0o755 });
  afterAll(() => rmSync(closed, { recursive: true, force: true }));

  it('names the 0700 directory above a path, for another user and for "any other user"', () => {
    chmodSync(closed, 0o700);
    expect(unreachableDirectory(clone, nobody)).toEqual({ dir: closed, mode: 0o700 });
    expect(unreachableDirectory(join(clone, 'not-made-yet', 'pg'), 'others')).toEqual({ dir: closed, mode: 0o700 });
    // Its owner gets through, and with o+x everyone does.
    expect(unreachableDirectory(clone, { uid: process.getuid?.() ?? 0, gids: [] })).toBeUndefined();
    chmodSync(closed, 0o711);
    expect(unreachableDirectory(clone, nobody)).toBeUndefined();
  });

  it('says what is in the way and what to do', () => {
    chmodSync(closed, 0o700);
    expect(() => assertPostgresCanReach([clone], nobody)).toThrow(
      new RegExp(
        `cannot enter\\n${closed} \\(mode 0700\\)[\\s\\S]*run pnpm dev as an ordinary user[\\s\\S]*chmod o\\+x ${closed}`,
      ),
    );
    expect(() => assertPostgresCanReach(['/usr/bin'], nobody)).not.toThrow();
  });

  it.skipIf(!asRoot)('predicts exactly what a spawn as another user meets (root only)', () => {
    const who = postgresUser() === 'others' ? nobody : postgresUser();
    if (who === 'others') throw new Error('unreachable');
    const bin = join(clone, 'initdb');
    copyFileSync('/bin/true', bin);
    chmodSync(bin, 0o755);
    const run = () => spawnSync(bin, [], { uid: who.uid, gid: who.gids[0] ?? who.uid });
    chmodSync(closed, 0o700);
    expect(unreachableDirectory(bin, who)?.dir).toBe(closed);
    expect((run().error as NodeJS.ErrnoException | undefined)?.code).toBe('EACCES');
    chmodSync(closed, 0o711);
    expect(unreachableDirectory(bin, who)).toBeUndefined();
    expect(run().status).toBe(0);
  });
});
