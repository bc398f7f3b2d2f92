/** Writing Python source and literals from TypeScript values. */

/** A value the teacher can put in an input: ints, strings, booleans, None and lists of them. */
export type PyValue = number | string | boolean | null | readonly PyValue[];

/** Python `repr` of a str: single quotes unless the text has a quote and no double quote. */
export function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + quote;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return quote + out + quote;
}

/** A Python literal for the value (lists print like Python's repr: `[1, -2, 'a']`). */
export function py(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`py(): only integers are used, got ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return pyStr(v);
  return '[' + v.map(py).join(', ') + ']';
}

/** `c * x + b` style: an integer added or subtracted without writing `+ -3`. */
export function plus(expr: string, b: number): string {
  if (b === 0) return expr;
  return b > 0 ? `${expr} + ${b}` : `${expr} - ${-b}`;
}

/** Joins source lines; `null`/`false` entries are dropped so generators can write conditionals inline. */
export function src(...lines: Array<string | null | false | readonly string[]>): string {
  const out: string[] = [];
  for (const l of lines) {
    if (l === null || l === false) continue;
    if (typeof l === 'string') out.push(l);
    else out.push(...l);
  }
  return out.join('\n') + '\n';
}

/** English list: [1] -> '1', [1, 2] -> '1 or 2', [1, 2, 3] -> '1, 2 or 3'. */
export function englishList(xs: readonly number[], conj: string): string {
  if (xs.length <= 1) return xs.map(String).join('');
  return xs.slice(0, -1).join(', ') + ` ${conj} ` + String(xs[xs.length - 1]);
}

/** Capitalises the first letter (messages are sentences). */
export function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
