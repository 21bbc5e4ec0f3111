import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, importsOf } from './boundaries.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const found = (root: string) => checkBoundaries(here(root)).map((f) => `${f.rule} ${f.file}:${f.line}`);

describe('the package boundary check', () => {
  it('refuses each broken rule in the fixture, at the import that breaks it', () => {
    expect(found('./fixtures/boundaries/refused/').sort()).toEqual(
      [
        // The lint rule itself: a relative import that leaves its package root.
        'outside-package libs/a/src/index.ts:4',
        'layer libs/a/src/index.ts:2',
        // Declared, but only reached by the refused relative path.
        'unused-dependency libs/a/package.json:1',
        'cycle libs/a/src/cycle-one.ts:1',
        'cycle libs/b/package.json:1',
        'not-exported services/s1/src/index.ts:2',
        'dev-only-dependency services/s1/src/index.ts:4',
        'service-to-service services/s1/src/index.ts:6',
        'service-to-service services/s1/src/index.ts:8',
        'testing-in-production services/s1/src/index.ts:8',
        'undeclared-dependency cli/src/main.ts:2',
        'undeclared-dependency services/s2/src/index.ts:2',
        'test-only-dependency cli/package.json:1',
        'unresolved tests/suite.ts:2',
        'unused-dependency tests/package.json:1',
        'unlayered tools/package.json:1',
      ].sort(),
    );
  });

  it('names the modules of a cycle of type-only imports', () => {
    const cycle = checkBoundaries(here('./fixtures/boundaries/refused/')).find((f) => f.rule === 'cycle');
    expect(cycle?.message).toBe(
      'import cycle (type-only imports count): libs/a/src/cycle-one.ts → libs/a/src/cycle-two.tsx',
    );
  });

  it('passes the same shape done right: exports, testing subpaths from tests, layers pointing down', () => {
    expect(found('./fixtures/boundaries/clean/')).toEqual([]);
  });

  it('passes this repository', () => {
    expect(found('../')).toEqual([]);
  });

  it('reads static, type-only, multi-line, side-effect and dynamic imports, and skips comments', () => {
    const text = [
      "import type { A } from './a.ts';",
      'import {',
      '  b,',
      "} from '@x/b';",
      "export * from './c.ts';",
      "import './d.ts';",
      // Split so that this file's own check does not read it as an import of 'e'.
      'const e = await imp' + "ort('e');",
      "// import { f } from './f.ts';",
      "/* import { g } from './g.ts'; */",
      "const url = 'nats://127.0.0.1'; // a string with // in it",
      "const h = `import { h } from './h.ts'` + 'from';",
    ].join('\n');
    expect(importsOf(text)).toEqual(
      expect.arrayContaining([
        { specifier: './a.ts', line: 1 },
        { specifier: '@x/b', line: 4 },
        { specifier: './c.ts', line: 5 },
        { specifier: './d.ts', line: 6 },
        { specifier: 'e', line: 7 },
      ]),
    );
    expect(importsOf(text).map((i) => i.specifier)).not.toContain('./f.ts');
    expect(importsOf(text).map((i) => i.specifier)).not.toContain('./g.ts');
    expect(importsOf(text)).toHaveLength(5);
  });
});
