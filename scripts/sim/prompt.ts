/**
 * Reading Cairn's prompts (the fixed protocol in the brief): `## ` sections and fenced blocks.
 * Headings inside fences are content (a seed may well contain `## comment` lines), so fences are
 * tracked first; a fence closes on a line of at least as many backticks as opened it.
 */

export interface Block {
  info: string;
  body: string;
}

export interface Section {
  /** Heading text without the `## `, e.g. 'Previous problem'. */
  heading: string;
  /** Raw text under the heading (fences included). */
  text: string;
  blocks: Block[];
}

export interface Markdown {
  /** Text before the first `## ` heading. */
  preamble: string;
  sections: Section[];
}

const OPEN = /^ {0,3}(`{3,})\s*([^`\s]*)[^`]*$/;
const CLOSE = /^ {0,3}(`{3,})\s*$/;

/** Splits a prompt into its `## ` sections, each with its fenced blocks. */
export function parseMarkdown(text: string): Markdown {
  const lines = text.split(/\r?\n/);
  const sections: Section[] = [];
  const preamble: string[] = [];
  let cur: { heading: string; lines: string[]; blocks: Block[] } | null = null;
  let fence: { ticks: number; info: string; body: string[] } | null = null;

  const push = (line: string): void => {
    (cur ? cur.lines : preamble).push(line);
  };
  for (const line of lines) {
    if (fence) {
      const close = CLOSE.exec(line);
      if (close && (close[1] as string).length >= fence.ticks) {
        const block = { info: fence.info, body: fence.body.join('\n') };
        if (cur) cur.blocks.push(block);
        fence = null;
      } else {
        fence.body.push(line);
      }
      push(line);
      continue;
    }
    const open = OPEN.exec(line);
    if (open) {
      fence = { ticks: (open[1] as string).length, info: (open[2] ?? '').toLowerCase(), body: [] };
      push(line);
      continue;
    }
    const heading = /^##\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading && !line.startsWith('###')) {
      if (cur) sections.push({ heading: cur.heading, text: cur.lines.join('\n').trim(), blocks: cur.blocks });
      cur = { heading: heading[1] as string, lines: [], blocks: [] };
      continue;
    }
    push(line);
  }
  // An unclosed fence still counts: a truncated prompt should not lose its last block.
  if (fence && cur) cur.blocks.push({ info: fence.info, body: fence.body.join('\n') });
  if (cur) sections.push({ heading: cur.heading, text: cur.lines.join('\n').trim(), blocks: cur.blocks });
  return { preamble: preamble.join('\n').trim(), sections };
}

/** All fenced blocks of a text, in order (used on answers). */
export function fencedBlocks(text: string): Block[] {
  const md = parseMarkdown('## all\n' + text);
  return md.sections.flatMap((s) => s.blocks);
}

/** The section whose heading starts with `name` (case-insensitive), if any. */
export function section(md: Markdown, name: string): Section | undefined {
  const n = name.toLowerCase();
  return md.sections.find((s) => s.heading.toLowerCase().startsWith(n));
}

/** What the teacher reads from its request. */
export interface TeacherPrompt {
  env: string;
  seed: string;
  /** Present on refinement turns. */
  previous: { code: string | null; message: string | null } | null;
  /** The `## Feedback` text: the previous problem was invalid. */
  feedback: string | null;
  instruction: string;
}

/** What the student reads from its request. */
export interface StudentPrompt {
  env: string;
  /** Induction: the hint and the visible pairs. */
  message: string;
  examples: Array<{ input: string; output: string }>;
  /** Abduction / deduction (`## Function`) and fuzzing (`## Code`): the code shown. */
  code: string | null;
  /** Deduction: the input (`## Input`). */
  input: string | null;
  /** Abduction: the target output (`## Output`). */
  output: string | null;
  /** Fuzzing: the example inputs that pass the test (`## Passing inputs`). */
  passing: string[];
}

function envOf(text: string): string {
  return /^#\s*Environment:\s*(\w+)/im.exec(text)?.[1]?.toLowerCase() ?? 'induction';
}

export function parseTeacherPrompt(user: string): TeacherPrompt {
  const md = parseMarkdown(user);
  const seedSec = section(md, 'Seed');
  const seedBlock = seedSec?.blocks.find((b) => b.info === 'seed') ?? seedSec?.blocks[0];
  const prev = section(md, 'Previous problem');
  return {
    env: envOf(user),
    // Without a seed section the whole request stands in for it (still stable across retries).
    seed: seedBlock?.body ?? seedSec?.text ?? user,
    previous: prev
      ? {
          code: prev.blocks.find((b) => b.info === 'python' || b.info === 'py')?.body ?? null,
          message: prev.blocks.find((b) => b.info === 'message')?.body ?? null,
        }
      : null,
    feedback: section(md, 'Feedback')?.text ?? null,
    instruction: section(md, 'Instruction')?.text ?? '',
  };
}

export function parseStudentPrompt(user: string): StudentPrompt {
  const md = parseMarkdown(user);
  const msg = section(md, 'Message');
  const examples: Array<{ input: string; output: string }> = [];
  let pending: string | null = null;
  for (const b of section(md, 'Examples')?.blocks ?? []) {
    if (b.info === 'input') pending = b.body;
    else if (b.info === 'output' && pending !== null) {
      examples.push({ input: pending, output: b.body });
      pending = null;
    }
  }
  // The hint is plain text, but accept it fenced too.
  const message = msg?.blocks[0]?.body ?? msg?.text ?? '';
  const codeSec = section(md, 'Function') ?? section(md, 'Code');
  const first = (name: string, info: string): string | null => {
    const sec = section(md, name);
    return sec ? (sec.blocks.find((b) => b.info === info)?.body ?? sec.blocks[0]?.body ?? null) : null;
  };
  return {
    env: envOf(user),
    message: message.trim(),
    examples,
    code: codeSec?.blocks.find((b) => b.info === 'python' || b.info === 'py')?.body ?? codeSec?.blocks[0]?.body ?? null,
    input: first('Input', 'input')?.trim() ?? null,
    output: first('Output', 'output')?.trim() ?? null,
    passing: (section(md, 'Passing inputs')?.blocks ?? []).filter((b) => b.info === 'input').map((b) => b.body.trim()),
  };
}
