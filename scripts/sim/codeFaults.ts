/**
 * Generic ways to break a correct `def f(...)`: the teacher's validation faults and the student's
 * crash-type failures. They act on source text, so they work for every family. Every family's code
 * starts with a `def f(...):` line and a 4-space-indented body.
 */

function defLine(lines: string[]): number {
  const i = lines.findIndex((l) => l.startsWith('def f('));
  if (i < 0) throw new Error('codeFaults: no top-level `def f(` line');
  return i;
}

/** The first parameter's name (`xs` in `def f(xs, w):`). */
export function firstParam(code: string): string {
  return /^def f\(\s*(\w+)/m.exec(code)?.[1] ?? 'args';
}

/** A SyntaxError: the `def` line loses its colon (a classic slip). */
export function dropDefColon(code: string): string {
  const lines = code.split('\n');
  const i = defLine(lines);
  lines[i] = (lines[i] as string).replace(/:\s*$/, '');
  return lines.join('\n');
}

/** A SyntaxError of another kind: an unclosed bracket on the last line that has one. */
export function unbalance(code: string): string {
  const lines = code.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] as string;
    const at = Math.max(l.lastIndexOf(')'), l.lastIndexOf(']'));
    if (at > 0) {
      lines[i] = l.slice(0, at) + l.slice(at + 1);
      return lines.join('\n');
    }
  }
  return dropDefColon(code);
}

/** Inserts body lines right after the `def f` line. */
function prependBody(code: string, body: string[]): string {
  const lines = code.split('\n');
  const i = defLine(lines);
  lines.splice(i + 1, 0, ...body);
  return lines.join('\n');
}

/** Raises on every call: an off-by-one index past the end (IndexError, or TypeError on an int). */
export function indexPastEnd(code: string): string {
  const a = firstParam(code);
  return prependBody(code, [`    pivot = sorted(${a})[len(${a})]`]);
}

/** Never returns: a loop whose counter is never advanced. */
export function stuckLoop(code: string): string {
  return prependBody(code, ['    i = 0', '    while i >= 0:', '        i += 0']);
}

/** Effectively infinite: a naive exponential recursion warmed up on every call. */
export function tooSlow(code: string): string {
  const helper = ['def _count_paths(k):', '    return 1 if k < 2 else _count_paths(k - 1) + _count_paths(k - 2)', '', ''];
  return helper.join('\n') + prependBody(code, ['    _ = _count_paths(64)']);
}

/**
 * Non-deterministic: the result carries the iteration order of a set of fresh objects and an
 * id-based key, both of which follow memory addresses and so change from one process to the next
 * (ASLR). Two runs in one process may still agree, as with real flaky code.
 */
export function nonDeterministic(code: string): string {
  const renamed = code.replace(/^def f\(/m, 'def _solve(');
  return (
    renamed.trimEnd() +
    '\n\n\nclass _Tag:\n    def __init__(self, n):\n        self.n = n\n\n\n' +
    'def f(*args):\n' +
    '    tags = {_Tag(i) for i in range(6)}\n' +
    '    return [_solve(*args), [t.n for t in tags], id(tags) // 16 % 1000]\n'
  );
}

/** A banned import at the top (the validator must refuse it). */
export function bannedImport(code: string): string {
  return 'import os\n\n\n' + code;
}

/** The faults that only rewrite the code, shared by every environment's teacher; other kinds leave it. */
export function codeFault(kind: string | null, code: string): string {
  switch (kind) {
    case 'syntax':
      return dropDefColon(code);
    case 'nondeterministic':
      return nonDeterministic(code);
    case 'too_slow':
      return tooSlow(code);
    case 'banned_import':
      return bannedImport(code);
    default:
      return code;
  }
}
