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
  let t = text.replace(/<think>[\s\S]*?<\/think>/g, '');
  const open = t.indexOf('<think>');
  if (open >= 0) t = t.slice(0, open);
  const ans = /<answer>([\s\S]*?)(<\/answer>|$)/.exec(t);
  return ans ? (ans[1] ?? '') : t;
}

/** All fenced blocks in order. A fence is three or more backticks at the start of a line. */
export function parseBlocks(text: string): Block[] {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  let cur: { lang: string; fence: string; body: string[] } | null = null;
  for (const line of lines) {
    if (!cur) {
      const m = /^\s*(`{3,})\s*([\w+-]*)\s*$/.exec(line);
      if (m) cur = { fence: m[1] ?? '```', lang: (m[2] ?? '').toLowerCase(), body: [] };
    } else if (line.trim() === cur.fence || (line.trim().startsWith(cur.fence) && line.trim().replace(/`/g, '') === '')) {
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
