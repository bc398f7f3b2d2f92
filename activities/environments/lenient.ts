/**
 * Reading teacher answers as real models write them, not only as the prompt asks: reasoning
 * blocks, CRLF, fences labelled `py`/`python3`/`Python` or not at all, several python blocks
 * (a draft and a final version, or the function and a usage example), prose around the blocks,
 * every input in one block (one per line), inputs with trailing commas, comments or `f(...)`
 * around them, a hint under a heading instead of a ```message block, and a structured answer
 * (the JSON object asked for by the structured-output mode). Whatever is picked is then checked
 * by the environment's own rules exactly as before, so leniency never lets a bad problem through.
 */
import { parseBlocks, stripReasoning, type Block } from './blocks';

const PY_LANGS = new Set(['python', 'py', 'python3', 'py3', '']);

/** CRLF to LF, reasoning removed. */
export function normalizeAnswer(text: string): string {
  return stripReasoning(text.replace(/\r\n?/g, '\n'));
}

/** Top-level `def name(` in a code body. */
export function definesFn(body: string, name: string): boolean {
  return new RegExp(`^def ${name}\\s*\\(`, 'm').test(body);
}

/**
 * The code: among python-ish blocks (python, py, python3, or unlabelled), the one defining every
 * required function; when several do, the last (a model's final version follows its draft); when
 * none alone does but together they do (one function per block), all of those in order. Blocks
 * that define none of the functions (usage examples, tests) are left out.
 */
export function pickCode(blocks: Block[], functions: string[]): { code: string | null; candidates: number; missing: string | null } {
  const py = blocks.filter((b) => PY_LANGS.has(b.lang) && /^def \w+\s*\(/m.test(b.body));
  // For the reason only: a labelled python block without any function still is "code", not "no block".
  const labelled = blocks.filter((b) => b.lang !== '' && PY_LANGS.has(b.lang)).length;
  const candidates = Math.max(py.length, labelled);
  const full = py.filter((b) => functions.every((f) => definesFn(b.body, f)));
  if (full.length > 0) return { code: (full[full.length - 1] as Block).body, candidates, missing: null };
  const some = py.filter((b) => functions.some((f) => definesFn(b.body, f)));
  const joined = some.map((b) => b.body).join('\n\n');
  const missing = functions.find((f) => !definesFn(joined, f)) ?? null;
  if (some.length > 1 && missing === null) return { code: joined, candidates, missing: null };
  return { code: null, candidates, missing: missing ?? functions[0] ?? 'f' };
}

/** Drops a `#` comment outside string literals (a `#` inside quotes stays). */
export function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (line.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = null;
      }
    } else if (c === '#') return line.slice(0, i);
    else if (c === '"' || c === "'") quote = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
  }
  return line;
}

/** Brackets balanced and no string left open: the line is a whole literal on its own. */
function balanced(line: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    if (depth < 0) return false;
  }
  return depth === 0 && quote === null;
}

/**
 * One input as the teacher wrote it, cleaned: comments dropped, `f(...)` / `f(...) == ...` /
 * `print(f(...))` around it and a trailing comma removed, blank lines gone.
 */
export function cleanInput(body: string): string {
  let t = body
    .split('\n')
    .map((l) => stripComment(l).trimEnd())
    .filter((l) => l.trim() !== '')
    .join('\n')
    .trim();
  const printed = /^print\s*\(([\s\S]*)\)$/.exec(t);
  if (printed) t = (printed[1] ?? '').trim();
  const call = /^f\s*\(([\s\S]*)\)(\s*(==|->|=>)[\s\S]*)?$/.exec(t);
  if (call && balanced(call[1] ?? '')) t = call[1] ?? '';
  return t.trim().replace(/,\s*$/, '').trim();
}

/**
 * The inputs: each ```input (or ```inputs) block, cleaned. When the teacher put several inputs in
 * one block, one per line (every line a whole literal), and there are fewer blocks than wanted,
 * the lines count as the inputs.
 */
export function pickInputs(blocks: Block[], want: { min: number; max: number }): string[] {
  const raw = blocks.filter((b) => b.lang === 'input' || b.lang === 'inputs').map((b) => b.body);
  const cleaned = raw.map(cleanInput);
  if (cleaned.length >= want.min) return cleaned;
  const lines = raw.flatMap((body) =>
    body
      .split('\n')
      .map((l) => stripComment(l).trim())
      .filter((l) => l !== ''),
  );
  if (lines.length >= want.min && lines.length <= want.max && lines.length > cleaned.length && lines.every(balanced)) {
    return lines.map(cleanInput);
  }
  return cleaned;
}

/**
 * The hint: a ```message (or ```hint) block; else the paragraph after a `Message:` / `Hint:` label
 * or a `## Message` heading, outside any block. Null when there is none.
 */
export function pickMessage(text: string, blocks: Block[]): string | null {
  const own = blocks.filter((b) => b.lang === 'message' || b.lang === 'hint');
  if (own.length > 0) return (own[own.length - 1] as Block).body.trim();
  const outside = text.replace(/^\s*(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\s*\1\s*$/gm, '');
  const m = /^\s*(?:#+\s*|\*\*)?(?:message|hint)(?:\*\*)?\s*:?\s*(?:\*\*)?[ \t]*(.*)$\n?((?:^(?!\s*#).+$\n?)*)/im.exec(outside);
  if (!m) return null;
  const body = `${m[1] ?? ''}\n${m[2] ?? ''}`.trim();
  return body === '' ? null : body;
}

/**
 * A structured answer (`{"code": ..., "inputs": [...], "message": ...}`, possibly in a ```json
 * block) rendered as the fenced blocks the parsers read; null when the text is not one.
 */
export function structuredToBlocks(text: string): string | null {
  const t = text.trim();
  const inner = /^(`{3,})\s*json\s*\n([\s\S]*)\n\1\s*$/.exec(t)?.[2] ?? t;
  if (!inner.startsWith('{')) return null;
  let v: unknown;
  try {
    v = JSON.parse(inner);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as { code?: unknown; inputs?: unknown; message?: unknown };
  if (typeof o.code !== 'string') return null;
  const inputs = Array.isArray(o.inputs) ? o.inputs.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))) : [];
  const f = (lang: string, body: string) => `\`\`\`\`${lang}\n${body}\n\`\`\`\``;
  return [
    f('python', o.code),
    ...inputs.map((i) => f('input', i)),
    ...(typeof o.message === 'string' ? [f('message', o.message)] : []),
  ].join('\n');
}

/** A teacher answer's parts, read leniently (see the module comment); checks are the caller's. */
export interface TeacherParts {
  code: string | null;
  /** python-ish blocks defining some function (to tell "no code" from "code without f"). */
  codeBlocks: number;
  /** When `code` is null: the first required function no block defines. */
  missingFn: string | null;
  inputs: string[];
  message: string | null;
}

export function teacherParts(text: string, opts: { functions: string[]; minInputs: number; maxInputs: number }): TeacherParts {
  const plain = normalizeAnswer(text);
  const src = structuredToBlocks(plain) ?? plain;
  const blocks = parseBlocks(src);
  const { code, candidates, missing } = pickCode(blocks, opts.functions);
  return {
    code,
    codeBlocks: candidates,
    missingFn: missing,
    inputs: pickInputs(blocks, { min: opts.minInputs, max: opts.maxInputs }),
    message: pickMessage(src, blocks),
  };
}
