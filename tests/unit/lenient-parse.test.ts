/**
 * The teacher parsers against real output: transcripts of the local model (SmolLM2-135M through
 * llama.cpp's server, saved by `npm run demo -- --llm local` and `npm run bench:parse -- --save`)
 * in tests/fixtures/llm/, and the shapes real models write: reasoning blocks, CRLF, fences in other
 * languages or none, several python blocks, prose around them, inputs with trailing commas or
 * comments or all in one block, a hint under a heading, a structured (JSON) answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseTeacher as deductionTeacher } from '../../activities/environments/deduction';
import { parseTeacher as fuzzingTeacher } from '../../activities/environments/fuzzing';
import { parseTeacher } from '../../activities/environments/induction';
import { cleanInput, pickMessage, stripComment, structuredToBlocks } from '../../activities/environments/lenient';
import { parseBlocks } from '../../activities/environments/blocks';
import { problemSchema, responseFormat, structuredMessages } from '../../activities/environments/structured';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'llm');

interface Transcript {
  model: string;
  mode: 'plain' | 'structured';
  finishReason: string | null;
  response: string;
  parsed: { ok: boolean; reason?: string };
}

const transcripts = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as Transcript] as const);

describe('real transcripts of the local model', () => {
  it('are there, plain and structured', () => {
    expect(transcripts.filter(([, t]) => t.mode === 'plain').length).toBeGreaterThanOrEqual(4);
    expect(transcripts.filter(([, t]) => t.mode === 'structured').length).toBeGreaterThanOrEqual(2);
  });

  it.each(transcripts)('%s parses as recorded (ok, or the same reason)', (_f, t) => {
    const r = parseTeacher(t.response);
    expect(r.ok ? { ok: true } : { ok: false, reason: r.reason }).toEqual(t.parsed);
  });

  it('every structured answer the server finished is the JSON object the schema asks for (llama.cpp enforced it)', () => {
    const finished = transcripts.filter(([, x]) => x.mode === 'structured' && x.finishReason === 'stop');
    expect(finished.length).toBeGreaterThanOrEqual(2);
    for (const [, t] of finished) expect(structuredToBlocks(t.response)).not.toBeNull();
  });
});

const CODE = 'def f(xs, k):\n    return sorted(x for x in xs if x % k == 0)';
const INPUTS = ['[1, 2, 3], 1', '[4, 6, 9], 3', '[], 2', '[5], 5', '[10, 20, 7], 10'];
const inputBlocks = INPUTS.map((i) => '```input\n' + i + '\n```').join('\n');
const MSG = 'Keep the multiples of k, in increasing order.';

describe('lenient teacher parsing (the checks stay the same)', () => {
  const want = { ok: true, value: { code: CODE, inputs: INPUTS, message: MSG } };

  it.each([
    [
      'reasoning first',
      `<think>Let me write \`\`\`python\ndef f(): pass\n\`\`\`</think>\n\`\`\`python\n${CODE}\n\`\`\`\n${inputBlocks}\n\`\`\`message\n${MSG}\n\`\`\``,
    ],
    [
      'only a closing </think>',
      `I should keep multiples.</think>\`\`\`python\n${CODE}\n\`\`\`\n${inputBlocks}\n\`\`\`message\n${MSG}\n\`\`\``,
    ],
    ['CRLF line ends', `\`\`\`python\n${CODE}\n\`\`\`\n${inputBlocks}\n\`\`\`message\n${MSG}\n\`\`\``.replace(/\n/g, '\r\n')],
    ['```py and ```Python3 title=x fences', `\`\`\`Python3 title="f.py"\n${CODE}\n\`\`\`\n${inputBlocks}\n~~~message\n${MSG}\n~~~`],
    ['an unlabelled code fence', `Here you go:\n\`\`\`\n${CODE}\n\`\`\`\n${inputBlocks}\n\`\`\`message\n${MSG}\n\`\`\``],
    [
      'a draft, the final version and a usage example',
      `Draft:\n\`\`\`python\ndef f(xs, k):\n    return xs\n\`\`\`\nBetter:\n\`\`\`python\n${CODE}\n\`\`\`\nUsage:\n\`\`\`python\nprint(f([1, 2], 1))\n\`\`\`\n${inputBlocks}\n\`\`\`message\n${MSG}\n\`\`\``,
    ],
    [
      'inputs with trailing commas, comments and f(...) around them',
      `\`\`\`python\n${CODE}\n\`\`\`\n` +
        ['[1, 2, 3], 1,', '[4, 6, 9], 3  # multiples of 3', 'f([], 2)', '# one element\n[5], 5', 'f([10, 20, 7], 10) == [10, 20]']
          .map((i) => '```input\n' + i + '\n```')
          .join('\n') +
        `\n\`\`\`message\n${MSG}\n\`\`\``,
    ],
    [
      'all inputs in one block, one per line',
      `\`\`\`python\n${CODE}\n\`\`\`\n\`\`\`input\n${INPUTS.join('\n')}\n\`\`\`\n\`\`\`message\n${MSG}\n\`\`\``,
    ],
    ['the hint under a heading, not in a block', `\`\`\`python\n${CODE}\n\`\`\`\n${inputBlocks}\n\n## Message\n${MSG}\n`],
    ['the hint after a "Hint:" label', `\`\`\`python\n${CODE}\n\`\`\`\n${inputBlocks}\n\n**Hint:** ${MSG}\n`],
    ['a structured answer', JSON.stringify({ code: CODE, inputs: INPUTS, message: MSG })],
    [
      'a structured answer in a ```json block',
      '```json\n' + JSON.stringify({ code: CODE, inputs: INPUTS, message: MSG }, null, 2) + '\n```',
    ],
  ])('reads %s', (_name, text) => {
    expect(parseTeacher(text)).toEqual(want);
  });

  it('still refuses what is wrong, with the reason', () => {
    expect(parseTeacher(`\`\`\`python\ndef g(x):\n    return x\n\`\`\`\n${inputBlocks}\n\`\`\`message\nm\n\`\`\``)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('top-level function `f`'),
    });
    expect(parseTeacher(`\`\`\`python\n${CODE}\n\`\`\`\n\`\`\`input\n[1], 1\n\`\`\`\n\`\`\`message\nm\n\`\`\``)).toMatchObject({
      ok: false,
      reason: 'Found 1 input blocks; write exactly 5.',
    });
    // A multi-line literal in one block is one input, never split into lines.
    expect(parseTeacher(`\`\`\`python\n${CODE}\n\`\`\`\n\`\`\`input\n[1,\n 2], 1\n\`\`\`\n\`\`\`message\nm\n\`\`\``)).toMatchObject({
      ok: false,
      reason: 'Found 1 input blocks; write exactly 5.',
    });
    expect(parseTeacher(JSON.stringify({ code: 'import os\n' + CODE, inputs: INPUTS, message: MSG }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('imports `os`'),
    });
  });

  it('other environments: the function split over blocks, inputs cleaned', () => {
    const r = fuzzingTeacher(
      '```python\ndef f(xs):\n    return max(xs)\n```\n```python\ndef pre_test_f(xs):\n    return bool(xs)\n\ndef test_f(xs):\n    return f(xs) >= xs[0]\n```\n```input\n[1, 5, 3],  # ok\n```',
    );
    expect(r).toMatchObject({ ok: true, value: { inputs: ['[1, 5, 3]'] } });
    expect(r.ok && r.value.code).toContain('def pre_test_f');
    expect(deductionTeacher('```py\ndef f(x):\n    return x + 1\n```\n```input\nf(3)\n```')).toEqual({
      ok: true,
      value: { code: 'def f(x):\n    return x + 1', inputs: ['3'], message: null },
    });
  });

  it('helpers: comments outside strings only; a message only outside blocks', () => {
    expect(stripComment("'a#b', 2  # two")).toBe("'a#b', 2  ");
    expect(stripComment('"""x#y""", 1 # c')).toBe('"""x#y""", 1 ');
    expect(cleanInput('print(f("x", 2))')).toBe('"x", 2');
    expect(cleanInput('(1, 2),')).toBe('(1, 2)');
    const text = '```python\n# Message: not this\n```\nMessage: this one';
    expect(pickMessage(text, parseBlocks(text))).toBe('this one');
  });
});

describe('structured-output mode', () => {
  it('asks for the problem under a JSON schema that fits each environment', () => {
    expect(problemSchema('induction')).toMatchObject({
      required: ['code', 'inputs', 'message'],
      properties: { inputs: { minItems: 5, maxItems: 5 } },
      additionalProperties: false,
    });
    expect(problemSchema('deduction')).toMatchObject({
      required: ['code', 'inputs'],
      properties: { inputs: { minItems: 1, maxItems: 1 } },
    });
    expect(responseFormat('fuzzing')).toMatchObject({ type: 'json_schema', json_schema: { name: 'fuzzing_problem', strict: true } });
    const msgs = structuredMessages('induction', [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
    ]);
    expect(msgs[0]).toEqual({ role: 'system', content: 's' });
    expect(msgs[1]?.content).toMatch(/^u\n\n## Answer as JSON\n.*"inputs": 5 strings/s);
  });
});
