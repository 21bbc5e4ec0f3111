/**
 * docs/compliance.md stays true to the tree (issue 16 item 6): every path it names in backticks
 * exists, and every test it cites as `file` › `name` is still in that file under that name.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAP = path.join(ROOT, 'docs/compliance.md');

// A repository path: relative, with at least one directory, no spaces or wildcards.
const PATH = /^[\w@.-]+(\/[\w@.-]+)+\/?$/;
const TEST_REF = /`([^`]+\.test\.ts)` › `([^`]+)`/g;

interface Row {
  readonly req: string;
  readonly line: number;
  readonly paths: string[];
  readonly tests: { file: string; name: string }[];
}

/** The table rows of the map: each with the paths and test references in it. */
function parseMap(markdown: string): Row[] {
  const rows: Row[] = [];
  markdown.split('\n').forEach((text, i) => {
    if (!text.startsWith('| ') || /^\|\s*(Req\.|---)/.test(text)) return;
    const cells = text.split(' | ');
    const tests = [...text.matchAll(TEST_REF)].map((m) => ({ file: m[1] as string, name: m[2] as string }));
    const withoutTests = text.replace(TEST_REF, '');
    const paths = [...withoutTests.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string).filter((s) => PATH.test(s));
    rows.push({ req: (cells[0] ?? '').replace(/^\|\s*/, ''), line: i + 1, paths, tests });
  });
  return rows;
}

describe('docs/compliance.md', () => {
  const rows = parseMap(readFileSync(MAP, 'utf8'));

  it('maps the PCI DSS and ASVS requirements the issue lists, each with a status', () => {
    const reqs = rows.map((r) => r.req).join(' ');
    for (const r of ['3.5.1', '3.6.1', '3.7.1', '3.7.7', '7.2.1', '8.2.8', '8.3.4', '8.3.6', '8.4.3', '8.5.1'])
      expect(reqs).toContain(r);
    for (const r of ['10.2.1', '10.2.2', '10.3.1', '10.3.2', '10.3.3', '10.3.4', '10.4.1', '3.3.4', '6.4.2', '7.3.1'])
      expect(reqs).toContain(r);
    const text = readFileSync(MAP, 'utf8');
    for (const section of ['### V3 Session management', '### V6 Stored cryptography', '### V7 Error handling'])
      expect(text).toContain(section);
    // Honest about gaps: at least one requirement is marked as not met.
    expect(text).toMatch(/\| Not met/);
    expect(rows.length).toBeGreaterThan(40);
  });

  it('names only files and directories that exist', () => {
    const missing = rows.flatMap((r) =>
      r.paths.filter((p) => !existsSync(path.join(ROOT, p))).map((p) => `line ${r.line}: ${p}`),
    );
    expect(missing).toEqual([]);
    expect(rows.flatMap((r) => r.paths).length).toBeGreaterThan(40);
  });

  it('cites only tests that still exist under those names in those files', () => {
    const gone = rows.flatMap((r) =>
      r.tests
        .filter((t) => !existsSync(path.join(ROOT, t.file)) || !testNames(t.file).has(t.name))
        .map((t) => `line ${r.line}: ${t.file} › ${t.name}`),
    );
    expect(gone).toEqual([]);
    expect(rows.flatMap((r) => r.tests).length).toBeGreaterThan(40);
  });

  it('notices a renamed test and a moved file (the checks bite)', () => {
    const [row] = parseMap(
      '| 9.9.9 | x | Met | `services/nowhere.ts` | `tests/admin/session.test.ts` › `a test that was renamed` | — |',
    );
    expect(row?.paths).toEqual(['services/nowhere.ts']);
    expect(existsSync(path.join(ROOT, 'services/nowhere.ts'))).toBe(false);
    expect(testNames('tests/admin/session.test.ts').has('a test that was renamed')).toBe(false);
  });
});

const cache = new Map<string, Set<string>>();
/** The titles a test file declares with it(…) / test(…) / it.each(…)(…), as written in the source. */
function testNames(file: string): Set<string> {
  const known = cache.get(file);
  if (known) return known;
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  const names = new Set<string>();
  const title =
    /\b(?:it|test)(?:\.(?:skipIf|runIf)\([^)]*\)|\.each\((?:[^()]|\([^()]*\))*\))?\(\s*(['"`])((?:\\.|(?!\1).)*)\1/gs;
  for (const m of source.matchAll(title)) names.add((m[2] as string).replace(/\\(['"`\\])/g, '$1'));
  cache.set(file, names);
  return names;
}
