/**
 * What the abduction, deduction and fuzzing games share in the simulator.
 *
 * In those environments the student sees the code, so the teacher's code carries its family's
 * hint as a docstring of `f` (as a model's code often documents itself); the student reads it back
 * into (family, parameters), rebuilds the function and works out values by running its OWN rebuilt
 * code (pyexec.ts), as a model would by tracing it. Candidate inputs come from a generator keyed by
 * (family, parameters), the "inputs this kind of function takes" both sides know, so a student that
 * understood f can search them (abduction: an input giving o; fuzzing: an input the flaw shows on).
 */
import { parseHint, type AnyFamily, type Args, type ParsedHint } from './families';
import type { Shape } from './pyexec';
import { Rng } from './rng';

export type SimEnv = 'induction' | 'abduction' | 'deduction' | 'fuzzing';
export const SIM_ENVS: readonly SimEnv[] = ['induction', 'abduction', 'deduction', 'fuzzing'];

export function simEnv(name: string): SimEnv {
  return (SIM_ENVS as readonly string[]).includes(name) ? (name as SimEnv) : 'induction';
}

/**
 * Added to a problem's latent difficulty for the student: predicting an output (deduction) is
 * usually easier than writing the function (induction); inverting it (abduction) a little harder;
 * finding a flaw's trigger (fuzzing) harder still.
 */
export const ENV_OFFSET: Readonly<Record<SimEnv, number>> = { induction: 0, deduction: -0.15, abduction: 0.05, fuzzing: 0.1 };

/** JSON with sorted keys: parameters read back from a hint may list their fields in another order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(stableJson).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return (
      '{' +
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => JSON.stringify(k) + ':' + stableJson(o[k]))
        .join(',') +
      '}'
    );
  }
  return JSON.stringify(v) ?? 'null';
}

/** Wraps text into lines of at most `width` characters (at spaces). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Puts the hint into `f` as its docstring (right after the `def f(...)` line). */
export function withDoc(code: string, hint: string): string {
  const lines = code.split('\n');
  const i = lines.findIndex((l) => l.startsWith('def f('));
  if (i < 0) return code;
  const body = wrap(hint.replace(/"""/g, "'''"), 84);
  const doc =
    body.length <= 1
      ? [`    """${body[0] ?? ''}"""`]
      : [`    """${body[0]}`, ...body.slice(1, -1).map((l) => `    ${l}`), `    ${body[body.length - 1]}"""`];
  lines.splice(i + 1, 0, ...doc);
  return lines.join('\n');
}

/** The first triple-quoted string of the code (f's docstring as the teacher writes it). */
export function docOf(code: string): string | null {
  return /"""([\s\S]*?)"""/.exec(code)?.[1] ?? null;
}

/** The code without its first docstring (the inverse of withDoc), lines right-trimmed. */
export function stripDoc(code: string): string {
  const lines = code.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith('"""'));
  if (start >= 0) {
    let end = start;
    const first = (lines[start] as string).trimStart().slice(3);
    if (!first.includes('"""')) while (end < lines.length - 1 && !(lines[end + 1] as string).includes('"""')) end++;
    if (!first.includes('"""')) end++;
    lines.splice(start, end - start + 1);
  }
  return lines
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

/** The family and parameters a code's docstring states, if the student can read it. */
export function hintFromCode(code: string | null): ParsedHint | null {
  const doc = code === null ? null : docOf(code);
  return doc === null ? null : parseHint(doc);
}

/** Top-level functions of a module, by name (each with its full source). */
export function functionsOf(code: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const chunk of code.split(/^(?=def )/m)) {
    const name = /^def (\w+)\s*\(/.exec(chunk)?.[1];
    if (name) out.set(name, chunk.trimEnd());
  }
  return out;
}

/** `xs, w` in `def f(xs, w):`. */
export function paramNames(code: string): string[] {
  const m = /^def f\(([^)]*)\)/m.exec(code);
  return (m?.[1] ?? '')
    .split(',')
    .map((s) => s.trim().split(/[:=]/)[0]?.trim() ?? '')
    .filter(Boolean);
}

/**
 * Inputs for these parameters, the same on both sides: the family's edge cases (the first `edges`
 * of them), then ordinary random ones, from a stream keyed by (family, parameters).
 */
export function candidateArgs(fam: AnyFamily, params: unknown, count = 40): { args: Args[]; edges: number } {
  const rng = Rng.from('candidates', fam.id, stableJson(params));
  const seen = new Set<string>();
  const args: Args[] = [];
  const add = (a: Args): void => {
    const s = a.join(', ');
    if (!seen.has(s)) {
      seen.add(s);
      args.push(a);
    }
  };
  for (const e of fam.edgeInputs(params, rng)) add(e);
  const edges = args.length;
  for (let i = 0; i < count; i++) add(fam.randomInput(params, rng));
  return { args, edges };
}

/** Renames the top-level `def f(` (the reference keeps the correct body). */
export function renameF(code: string, name: string): string {
  return code.replace(/^def f\(/m, `def ${name}(`);
}

/** Rounds a size bound up so the type check reads like a person wrote it. */
function roundUp(n: number): number {
  return n <= 10 ? 10 : Math.ceil(n / 10) * 10;
}

/** A Python condition that `v` has this shape (depth names the loop variables). */
export function shapeCheck(v: string, s: Shape | null, depth = 1): string {
  if (s === null) return 'True';
  const el = `v${depth}`;
  switch (s.t) {
    case 'int':
      return `type(${v}) is int and ${s.lo} <= ${v} <= ${s.hi}`;
    case 'str':
      return `type(${v}) is str and len(${v}) <= ${roundUp(s.max)}`;
    case 'bool':
      return `type(${v}) is bool`;
    case 'none':
      return `${v} is None`;
    case 'list': {
      if (s.of === null || s.of.t === 'any') {
        // Mixed element types: a short record like ['Ann', 3] is checked position by position.
        if (s.items)
          return [
            `type(${v}) is list`,
            `len(${v}) == ${s.items.length}`,
            ...s.items.map((it, i) => `(${shapeCheck(`${v}[${i}]`, it, depth + 1)})`),
          ].join(' and ');
        return `type(${v}) is list and len(${v}) <= ${roundUp(s.max)}`;
      }
      return `type(${v}) is list and len(${v}) <= ${roundUp(s.max)} and all(${shapeCheck(el, s.of, depth + 1)} for ${el} in ${v})`;
    }
    case 'tuple':
      return [
        `type(${v}) is tuple`,
        `len(${v}) == ${s.items.length}`,
        ...s.items.map((it, i) => `(${shapeCheck(`${v}[${i}]`, it, depth + 1)})`),
      ].join(' and ');
    case 'dict': {
      const head = `type(${v}) is dict and len(${v}) <= ${roundUp(s.max)}`;
      const k = `k${depth}`;
      return `${head} and all((${shapeCheck(k, s.k, depth + 1)}) and (${shapeCheck(el, s.v, depth + 1)}) for ${k}, ${el} in ${v}.items())`;
    }
    case 'any':
      return 'True';
  }
}

/** `pre_test_f` for these argument names and shapes. */
export function preTestSource(names: string[], shapes: Shape[]): string {
  const conds = names.map((n, i) => `(${shapeCheck(n, shapes[i] ?? null)})`);
  return [`def pre_test_f(${names.join(', ')}):`, '    return (', `        ${conds.join('\n        and ')}`, '    )', ''].join('\n');
}
