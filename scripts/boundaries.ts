/**
 * The package boundaries, checked (run by `pnpm lint`; tested on fixtures in scripts/boundaries.test.ts):
 *
 * - a relative import stays inside its own package (the nearest package.json);
 * - another workspace package is reached by its name, through a subpath its package.json exports,
 *   and is declared in the importer's package.json — in `dependencies` when production code uses it;
 *   every declared workspace dependency is used, and one used only by tests is a devDependency;
 *   a registry package is declared by the package that imports it (tests may use the root's vitest);
 * - `testing` subpaths and the test kit are for tests and benchmarks, never for production code;
 * - layers point down only: libs ← services ← cli ← tests ← bench (the root package); libs may use
 *   other libs, a service never uses another service;
 * - no import cycle between modules, type-only imports included.
 *
 * A small script rather than a Biome rule: Biome's noRestrictedImports matches specifiers by pattern
 * and cannot tell where a package's root is, and none of its rules knows the layers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Rule =
  | 'outside-package'
  | 'unresolved'
  | 'undeclared-dependency'
  | 'unused-dependency'
  | 'dev-only-dependency'
  | 'test-only-dependency'
  | 'not-exported'
  | 'testing-in-production'
  | 'layer'
  | 'service-to-service'
  | 'cycle'
  | 'unlayered';

export interface Finding {
  readonly rule: Rule;
  /** Path relative to the checked root, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

interface Package {
  readonly name: string;
  /** Relative to the root; '' for the root package. */
  readonly dir: string;
  readonly layer: number;
  readonly layerName: string;
  readonly dependencies: ReadonlySet<string>;
  readonly devDependencies: ReadonlySet<string>;
  readonly exports: ReadonlyMap<string, string>;
}

/** The layers, lowest first, by where a package lives. */
const LAYERS: readonly [RegExp, string][] = [
  [/^libs\/[^/]+$/, 'libs'],
  [/^services\/[^/]+$/, 'services'],
  [/^cli$/, 'cli'],
  [/^tests$/, 'tests'],
  [/^$/, 'bench (root package)'],
];
/** Packages for tests only: production code may not use them, like a `testing` subpath. */
const TEST_ONLY_DIRS = new Set(['libs/testkit']);
const SERVICES = LAYERS.findIndex(([, name]) => name === 'services');
const TESTS = LAYERS.findIndex(([, name]) => name === 'tests');

// .tsx too: the portal's pages are modules like any other (an import cycle hid there once).
const SOURCE = /\.(?:[cm]?ts|[cm]?js|tsx)$/;
const STATIC = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"\n]+)\1/gm;
const SIDE_EFFECT = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g;
const BUILTINS = new Set(builtinModules);

interface Import {
  readonly specifier: string;
  readonly line: number;
}

/** Comments blanked out (newlines kept, so line numbers hold), strings and code left as they are. */
function withoutComments(text: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop - 1;
    } else {
      if (c === "'" || c === '"' || c === '`') quote = c;
      out += c;
    }
  }
  return out;
}

export function importsOf(text: string): Import[] {
  const code = withoutComments(text);
  const found: Import[] = [];
  for (const pattern of [STATIC, SIDE_EFFECT, DYNAMIC]) {
    for (const m of code.matchAll(pattern)) {
      const at = m.index + m[0].length;
      found.push({ specifier: m[2] as string, line: code.slice(0, at).split('\n').length });
    }
  }
  return found;
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** The package directories pnpm-workspace.yaml names (`dir/*` and plain directories). */
function workspaceDirs(root: string): string[] {
  const yaml = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
  const dirs: string[] = [];
  let inPackages = false;
  for (const line of yaml.split('\n')) {
    if (/^\S/.test(line)) inPackages = line.startsWith('packages:');
    const item = inPackages ? /^\s+-\s+['"]?([^'"#\s]+)/.exec(line)?.[1] : undefined;
    if (!item) continue;
    if (item.endsWith('/*')) {
      const parent = item.slice(0, -2);
      for (const entry of readdirSync(path.join(root, parent)).sort()) {
        if (existsSync(path.join(root, parent, entry, 'package.json'))) dirs.push(`${parent}/${entry}`);
      }
    } else if (existsSync(path.join(root, item, 'package.json'))) {
      dirs.push(item);
    }
  }
  return dirs;
}

function loadPackage(root: string, dir: string): Package {
  const json = readJson(path.join(root, dir, 'package.json'));
  const layer = LAYERS.findIndex(([pattern]) => pattern.test(dir));
  const exportsField = json.exports;
  const exports = new Map<string, string>();
  if (typeof exportsField === 'string') exports.set('.', exportsField);
  else if (exportsField && typeof exportsField === 'object') {
    for (const [key, value] of Object.entries(exportsField)) if (typeof value === 'string') exports.set(key, value);
  }
  const names = (field: unknown) => new Set(Object.keys((field ?? {}) as Record<string, string>));
  return {
    name: String(json.name),
    dir,
    layer,
    layerName: layer < 0 ? 'none' : (LAYERS[layer] as [RegExp, string])[1],
    dependencies: names(json.dependencies),
    devDependencies: names(json.devDependencies),
    exports,
  };
}

const BUILD_OUTPUT = new Set(['node_modules', 'dist', 'portal-dist']);

/**
 * Source files of a package, leaving out node_modules, dot-directories, nested packages and build
 * output (`dist/`, `portal-dist/`: bundles that inline other packages by design).
 */
function sourceFiles(root: string, dir: string, others: ReadonlySet<string>): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel)).sort()) {
      const child = rel ? `${rel}/${entry}` : entry;
      const full = path.join(root, child);
      if (statSync(full).isDirectory()) {
        if (BUILD_OUTPUT.has(entry) || entry.startsWith('.') || others.has(child)) continue;
        if (existsSync(path.join(full, 'package.json')) || existsSync(path.join(full, 'pnpm-workspace.yaml'))) continue;
        walk(child);
      } else if (SOURCE.test(entry)) {
        files.push(child);
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * Test, benchmark and build-time code: test files, `testing/` directories, the tests and bench
 * packages, build configuration (`*.config.ts`), and the portal's sources under `web/`, which
 * Vite bundles into portal-dist at build time, so their packages are dev dependencies.
 */
function isTestCode(file: string, pkg: Package): boolean {
  return (
    pkg.layer >= TESTS ||
    /\.test\.(?:[cm]?[tj]s|tsx)$/.test(file) ||
    /\.config\.[cm]?[tj]s$/.test(file) ||
    /(^|\/)web\//.test(file) ||
    file.split('/').includes('testing')
  );
}

function resolveFile(target: string): string | undefined {
  const candidates = [target, `${target}.ts`, target.replace(/\.js$/, '.ts'), path.join(target, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

export function checkBoundaries(root: string): Finding[] {
  const dirs = workspaceDirs(root);
  const packages = [loadPackage(root, ''), ...dirs.map((d) => loadPackage(root, d))];
  const byName = new Map(packages.map((p) => [p.name, p]));
  const rootTools = (packages[0] as Package).devDependencies;
  const findings: Finding[] = [];
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const owner = (relFile: string): Package =>
    packages
      .filter((p) => p.dir === '' || relFile === p.dir || relFile.startsWith(`${p.dir}/`))
      .sort((a, b) => b.dir.length - a.dir.length)[0] as Package;

  const edges = new Map<string, Set<string>>();
  const sites = new Map<string, number>();
  const addEdge = (from: string, to: string, line: number) => {
    const set = edges.get(from) ?? new Set<string>();
    set.add(to);
    edges.set(from, set);
    if (!sites.has(`${from}\0${to}`)) sites.set(`${from}\0${to}`, line);
  };

  for (const pkg of packages) {
    if (pkg.layer < 0) {
      findings.push({
        rule: 'unlayered',
        file: `${pkg.dir || '.'}/package.json`,
        line: 1,
        message: `${pkg.name} is in no layer`,
      });
    }
    const usedByProduction = new Set<string>();
    const usedByTests = new Set<string>();
    const others = new Set(dirs.filter((d) => d !== pkg.dir));
    for (const file of sourceFiles(root, pkg.dir, others)) {
      const testCode = isTestCode(file, pkg);
      const at = (line: number, rule: Rule, message: string) => findings.push({ rule, file, line, message });
      edges.set(file, edges.get(file) ?? new Set());
      for (const { specifier, line } of importsOf(readFileSync(path.join(root, file), 'utf8'))) {
        if (specifier.startsWith('.')) {
          const target = resolveFile(path.resolve(root, path.dirname(file), specifier));
          if (!target) {
            at(line, 'unresolved', `${specifier} does not resolve to a file`);
            continue;
          }
          const targetPkg = owner(rel(target));
          if (targetPkg !== pkg) {
            at(
              line,
              'outside-package',
              `${specifier} leaves ${pkg.name} by relative path into ${targetPkg.name}: import it by name through its exports`,
            );
          }
          addEdge(file, rel(target), line);
          continue;
        }
        if (specifier.startsWith('node:') || BUILTINS.has(specifier)) continue;
        const name = packageName(specifier);
        const target = byName.get(name);
        if (!target) {
          // A registry package: declared by the package that uses it; test code may also use the
          // root package's tools (vitest).
          const declared = pkg.dependencies.has(name) || pkg.devDependencies.has(name);
          if (!declared && !(testCode && rootTools.has(name))) {
            at(line, 'undeclared-dependency', `${pkg.name} uses ${name} without declaring it in its package.json`);
          } else if (!testCode && !pkg.dependencies.has(name) && pkg.layer < TESTS) {
            at(line, 'dev-only-dependency', `production code uses ${name}, declared only in devDependencies`);
          }
          continue;
        }
        const subpath = `.${specifier.slice(name.length)}`;
        const entry = target.exports.get(subpath);
        if (!entry) {
          at(line, 'not-exported', `${target.name} does not export ${subpath}`);
        } else {
          const file2 = resolveFile(path.join(root, target.dir, entry));
          if (file2) addEdge(file, rel(file2), line);
          else at(line, 'unresolved', `${specifier} is exported as ${entry}, which does not exist`);
        }
        if (target === pkg) continue;
        (testCode ? usedByTests : usedByProduction).add(name);
        if (!pkg.dependencies.has(name) && !pkg.devDependencies.has(name)) {
          at(line, 'undeclared-dependency', `${pkg.name} uses ${name} without declaring it in its package.json`);
        } else if (!testCode && !pkg.dependencies.has(name)) {
          at(line, 'dev-only-dependency', `production code uses ${name}, declared only in devDependencies`);
        }
        if (!testCode && (subpath.split('/').includes('testing') || TEST_ONLY_DIRS.has(target.dir))) {
          at(line, 'testing-in-production', `production code imports ${specifier}, which is for tests`);
        }
        if (target.layer > pkg.layer) {
          at(line, 'layer', `${pkg.layerName} (${pkg.name}) must not depend on ${target.layerName} (${target.name})`);
        } else if (target.layer === pkg.layer && target.layer >= SERVICES) {
          const rule = target.layer === SERVICES ? 'service-to-service' : 'layer';
          at(line, rule, `${pkg.name} must not depend on ${target.name}, a package of its own layer`);
        }
      }
    }
    const manifest = `${pkg.dir ? `${pkg.dir}/` : ''}package.json`;
    for (const name of [...pkg.dependencies, ...pkg.devDependencies].filter((n) => byName.has(n)).sort()) {
      if (!usedByProduction.has(name) && !usedByTests.has(name)) {
        findings.push({
          rule: 'unused-dependency',
          file: manifest,
          line: 1,
          message: `${name} is declared, never imported`,
        });
      } else if (pkg.layer < TESTS && pkg.dependencies.has(name) && !usedByProduction.has(name)) {
        findings.push({
          rule: 'test-only-dependency',
          file: manifest,
          line: 1,
          message: `${name} is used only by tests: declare it in devDependencies`,
        });
      }
    }
  }
  findings.push(...cycles(edges, sites, 'import cycle (type-only imports count)'));
  const packageEdges = new Map<string, Set<string>>();
  for (const [from, tos] of edges) {
    const a = `${owner(from).dir || '.'}/package.json`;
    for (const to of tos) {
      const b = `${owner(to).dir || '.'}/package.json`;
      const set = packageEdges.get(a) ?? new Set<string>();
      if (a !== b) set.add(b);
      packageEdges.set(a, set);
    }
  }
  findings.push(...cycles(packageEdges, new Map(), 'package cycle'));
  return findings;
}

/** Strongly connected components of the module graph (Tarjan); each one larger than a module is a cycle. */
function cycles(
  edges: ReadonlyMap<string, ReadonlySet<string>>,
  sites: ReadonlyMap<string, number>,
  kind: string,
): Finding[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: Finding[] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    const selfLoop = component.length === 1 && edges.get(v)?.has(v);
    if (component.length > 1 || selfLoop) {
      component.sort();
      const first = component[0] as string;
      const next = [...(edges.get(first) ?? [])].find((t) => component.includes(t)) as string;
      found.push({
        rule: 'cycle',
        file: first,
        line: sites.get(`${first}\0${next}`) ?? 1,
        message: `${kind}: ${component.join(' → ')}`,
      });
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const findings = checkBoundaries(root);
  for (const f of findings) console.error(`${f.file}:${f.line} ${f.rule}: ${f.message}`);
  if (findings.length > 0) {
    console.error(`boundaries: ${findings.length} problem(s)`);
    process.exit(1);
  }
  console.log('boundaries: every import stays in its package or goes through a declared export, down the layers');
}
