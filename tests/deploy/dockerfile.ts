/**
 * A small Dockerfile reader for the image tests: instructions with their arguments, grouped by
 * build stage. It handles what deploy/docker/Dockerfile uses (comments, line continuations, exec
 * form); it is not a general parser and refuses what it does not know rather than guessing.
 */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Instruction[];
}

export interface Dockerfile {
  /** ARG lines before the first FROM, with their defaults. */
  readonly globalArgs: Map<string, string>;
  readonly stages: Stage[];
}

const KNOWN = new Set([
  'FROM',
  'ARG',
  'LABEL',
  'RUN',
  'ENV',
  'WORKDIR',
  'USER',
  'STOPSIGNAL',
  'ENTRYPOINT',
  'CMD',
  'HEALTHCHECK',
  'COPY',
  'ADD',
  'EXPOSE',
  'VOLUME',
  'SHELL',
  'ONBUILD',
]);

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split('\n');
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\')) {
      line = `${line.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    const keyword = match?.[1]?.toUpperCase();
    if (!match || !keyword || !KNOWN.has(keyword)) throw new Error(`line ${start + 1}: not an instruction: ${line}`);
    const instruction = { keyword, args: (match[2] ?? '').replace(/\s+/g, ' ').trim(), line: start + 1 };
    if (keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(' ');
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`line ${start + 1}: only ARG may come before FROM`);
      const [k = '', v = ''] = instruction.args.split(/=(.*)/s);
      globalArgs.set(k, v);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** A stage's instructions including those of the stages it is built FROM, base first. */
export function effective(file: Dockerfile, stageName: string): Instruction[] {
  const stage = file.stages.find((s) => s.name === stageName);
  if (!stage) throw new Error(`no stage ${stageName}`);
  const parent = file.stages.find((s) => s.name === stage.from);
  return [...(parent ? effective(file, parent.name) : []), ...stage.instructions];
}

/** The last instruction of a kind that applies to a stage (later ones override earlier ones). */
export function last(file: Dockerfile, stageName: string, keyword: string): Instruction | undefined {
  return effective(file, stageName)
    .filter((i) => i.keyword === keyword)
    .at(-1);
}

/** LABEL/ENV arguments as key/value pairs (key="value" or key=value, several per line). */
export function pairs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of args.matchAll(/([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const raw = m[2] ?? '';
    out.set(m[1] ?? '', raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}
