/** Fenced-block parsing of the teacher's answers (method.md's output format); student answers are parsed by answers.py. */

export interface Block {
  lang: string;
  body: string;
}

/**
 * Removes reasoning so it never reaches the block parser: `<think>...</think>` (and an unclosed
 * `<think>` up to `</think>` missing: everything after it is reasoning), and keeps only the inside
 * of `<answer>...</answer>` when present.
 */
export function stripReasoning(text: string): string {
  let t = text.replace(/<(think|thinking)>[\s\S]*?<\/\1>/g, '');
  // A reasoning parser that keeps only the closing tag (the opening one was in the prompt's template).
  const close = /<\/(think|thinking)>/.exec(t);
  if (close && !/<(think|thinking)>/.test(t.slice(0, close.index))) t = t.slice(close.index + close[0].length);
  const open = /<(think|thinking)>/.exec(t);
  if (open) t = t.slice(0, open.index);
  const ans = /<answer>([\s\S]*?)(<\/answer>|$)/.exec(t);
  return ans ? (ans[1] ?? '') : t;
}

/**
 * All fenced blocks in order. A fence is three or more backticks (or tildes) at the start of a
 * line; the language is its first word (`python title="x"` is python), lower-cased.
 */
export function parseBlocks(text: string): Block[] {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  let cur: { lang: string; fence: string; body: string[] } | null = null;
  for (const line of lines) {
    if (!cur) {
      const m = /^\s*(`{3,}|~{3,})\s*([\w+-]*)[^`]*$/.exec(line);
      if (m) cur = { fence: m[1] ?? '```', lang: (m[2] ?? '').toLowerCase(), body: [] };
    } else if (line.trim().startsWith(cur.fence) && line.trim().replace(/[`~]/g, '') === '' && line.trim()[0] === cur.fence[0]) {
      blocks.push({ lang: cur.lang, body: cur.body.join('\n') });
      cur = null;
    } else {
      cur.body.push(line);
    }
  }
  return blocks;
}

/** Renders a fenced block (used by prompts; the inverse of parseBlocks). */
export function fence(lang: string, body: string): string {
  const longest = Math.max(2, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const f = '`'.repeat(Math.max(3, longest + 1));
  return `${f}${lang}\n${body}\n${f}`;
}

/** Shortens text for prompts and summaries, saying that it did. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n... [${text.length - max} more characters]`;
}
