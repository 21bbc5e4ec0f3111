/**
 * `pnpm build`: one ES module per service and the CLI, dist/main.js, runnable with plain `node`.
 *
 * The workspace libraries are TypeScript source (their package exports point at .ts files), so
 * they are bundled into each entry; every third-party package stays an ordinary import resolved
 * from node_modules at run time (native addons such as argon2 cannot be bundled, and keeping
 * them all external keeps the output small and the build under a second). esbuild only strips
 * types: `pnpm typecheck` is what checks them.
 */
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');

/** Bundle @coffer/* and relative imports; leave every other bare import to node_modules. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@coffer/') ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * The CLI carries the vault's migrations next to its bundle (dist/migrations), so the one place
 * that finds them by its own source location is pointed there instead.
 */
const migrationsBesideBundle = {
  name: 'migrations-beside-bundle',
  setup(b) {
    b.onLoad({ filter: /services[\\/]vault[\\/]src[\\/]db[\\/]migrate\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      const from = "join(import.meta.dirname, '..', '..', 'migrations')";
      if (!source.includes(from)) throw new Error(`${args.path}: MIGRATIONS_DIR moved; update scripts/build.mjs`);
      return { contents: source.replace(from, "join(import.meta.dirname, 'migrations')"), loader: 'ts' };
    });
  },
};

const targets = [
  { dir: 'services/ingest' },
  { dir: 'services/vault' },
  { dir: 'services/admin' },
  { dir: 'cli', plugins: [migrationsBesideBundle], copy: [['services/vault/migrations', 'cli/dist/migrations']] },
];

const started = performance.now();
await Promise.all(
  targets.map(async (t) => {
    const outdir = join(root, t.dir, 'dist');
    await rm(outdir, { recursive: true, force: true });
    await build({
      entryPoints: [join(root, t.dir, 'src/main.ts')],
      outfile: join(outdir, 'main.js'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      // Bundled CommonJS helpers may call require(); give ESM output one.
      banner: {
        js: "import { createRequire as __cofferRequire } from 'node:module'; const require = __cofferRequire(import.meta.url);",
      },
      plugins: [externalPackages, ...(t.plugins ?? [])],
      logLevel: 'warning',
    });
    for (const [from, to] of t.copy ?? []) await cp(join(root, from), join(root, to), { recursive: true });
  }),
);
process.stdout.write(
  `built ${targets.map((t) => `${t.dir}/dist/main.js`).join(', ')} in ${Math.round(performance.now() - started)} ms\n`,
);
