/** /proc: CPU seconds and RSS of processes and their children (Linux; NaN elsewhere). */
import { readdirSync, readFileSync } from 'node:fs';

/** The pids /proc lists now (none where there is no /proc). */
export function procEntries(): string[] {
  try {
    return readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
}

/** Every descendant of `pid`. */
export function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of procEntries()) {
    try {
      const match = /^\d+ \(.*\) \S+ (\d+) /s.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (Number(match?.[1]) === pid) out.push(Number(entry), ...children(Number(entry)));
    } catch {
      // the process went away while listing
    }
  }
  return out;
}

/** `pid` and its descendants. */
export const tree = (pid: number | undefined) => (pid ? [pid, ...children(pid)] : []);

/** User + system CPU seconds of `pids` (NaN if one is gone). */
export function cpuSeconds(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ ticks
    } catch {
      return Number.NaN;
    }
  }
  return total;
}

/** Resident memory of `pids` together, MB (a process that is gone counts 0). */
export function rssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/**
 * Memory of `pids` as one container holds it, MB: each process's private pages, plus the shared
 * ones once (the largest shared set; for Node processes that is the node binary's text, ~43 MB,
 * which the page cache holds once however many processes map it). Summed VmRSS counts that shared
 * part once per process: a cluster primary and two workers over-count it twice.
 */
export function privatePlusSharedMb(pids: number[]): number {
  let privateKb = 0;
  let sharedKb = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
      privateKb += field('Private_Clean') + field('Private_Dirty');
      sharedKb = Math.max(sharedKb, field('Shared_Clean') + field('Shared_Dirty'));
    } catch {
      // gone
    }
  }
  return (privateKb + sharedKb) / 1024;
}
