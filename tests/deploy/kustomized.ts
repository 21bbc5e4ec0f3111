/**
 * `kubectl kustomize` output of each deploy/k8s tree, recorded under tests/deploy/kustomized/ with a
 * hash of the files it was rendered from, so that the small renderer (kustomize.ts) is checked
 * against real kustomize on every machine, kubectl or not. Re-record after changing deploy/k8s, on
 * a machine with kubectl: `pnpm tsx tests/deploy/kustomized.ts`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOY } from './manifests.ts';

export const KUSTOMIZED = path.join(import.meta.dirname, 'kustomized');
export const recordedFile = (tree: string) => path.join(KUSTOMIZED, `${tree.replace('/', '-')}.yaml`);

/** SHA-256 over every file under deploy/k8s (names and contents, in a fixed order). */
export function inputsHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else
        hash
          .update(`${path.relative(DEPLOY, file)}\0`)
          .update(readFileSync(file))
          .update('\0');
    }
  };
  walk(path.join(DEPLOY, 'k8s'));
  return hash.digest('hex');
}

export const HEADER = /^# inputs-sha256: ([0-9a-f]{64})$/m;

export function kubectlKustomize(tree: string): string {
  return execFileSync('kubectl', ['kustomize', path.join(DEPLOY, 'k8s', tree)], { encoding: 'utf8' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const tree of ['base', 'overlays/dev', 'overlays/production']) {
    const version = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).match(
      /Kustomize Version: (\S+)/,
    )?.[1];
    const text = `# kubectl kustomize deploy/k8s/${tree} (kustomize ${version})\n# inputs-sha256: ${inputsHash()}\n${kubectlKustomize(tree)}`;
    writeFileSync(recordedFile(tree), text);
    process.stdout.write(`${recordedFile(tree)} recorded\n`);
  }
}
