/**
 * `pnpm deploy:service <ingest|vault|admin|cli> <dir>`: a self-contained folder for one service,
 * runnable with `node dist/main.js` from inside it — the built bundle plus its production
 * dependencies, nothing else (no sources, no tsx, no dev dependencies). Container images copy
 * exactly this folder.
 *
 * It is `pnpm deploy --prod` with a flat (hoisted) node_modules: the bundle imports the
 * third-party packages of the workspace libraries it inlined, and only a flat tree lets Node
 * find those from dist/. Run `pnpm build` first; this refuses to deploy a package without dist/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const packages = { ingest: 'services/ingest', vault: 'services/vault', admin: 'services/admin', cli: 'cli' };
const [service, dir] = process.argv.slice(2);
if (!service || !dir || !(service in packages)) {
  process.stderr.write(`usage: pnpm deploy:service <${Object.keys(packages).join('|')}> <dir>\n`);
  process.exit(2);
}
const root = join(import.meta.dirname, '..');
const bundle = join(root, packages[service], 'dist', 'main.js');
if (!existsSync(bundle)) {
  process.stderr.write(`deploy: ${packages[service]}/dist/main.js is missing; run \`pnpm build\` first\n`);
  process.exit(1);
}
const target = resolve(process.env.INIT_CWD ?? process.cwd(), dir);
execFileSync('pnpm', ['--filter', `@coffer/${service}`, 'deploy', '--prod', '--config.node-linker=hoisted', target], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
// pnpm leaves its lockfile and workspace file behind; neither is needed to run, and the
// workspace file would make pnpm treat the folder as a workspace root.
for (const f of ['pnpm-workspace.yaml']) rmSync(join(target, f), { force: true });
// The workspace manifest points `exports` and `start` at sources that are not here; the deployed
// one describes what is: `npm start` (or `node dist/main.js`) runs the bundle.
const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
const { exports: _exports, devDependencies: _dev, scripts: _scripts, ...kept } = manifest;
writeFileSync(
  join(target, 'package.json'),
  `${JSON.stringify({ ...kept, main: 'dist/main.js', scripts: { start: 'node dist/main.js' } }, null, 2)}\n`,
);
process.stdout.write(`deployed @coffer/${service} to ${target} (run: cd ${target} && node dist/main.js)\n`);
