/**
 * One reward, two places: Cairn's answer parser and reward comparison are answers.py, and the
 * exported cairn_reward.py carries that file (and the sandbox driver) verbatim, defining neither
 * function a second time. The rule itself, through Cairn's own call.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANSWERS_PY, compareMany, compareOutcomes, parseAnswers } from '../../activities/environments/answers-py';
import { environment } from '../../activities/environments';
import { REWARD_SOURCES, rewardFileText } from '../../scripts/dataset/reward-file';

test('cairn_reward.py embeds answers.py and driver.py verbatim and defines the parser and comparison once', () => {
  expect(REWARD_SOURCES.answers).toBe(ANSWERS_PY);
  const text = rewardFileText();
  expect(text).toContain(fs.readFileSync(ANSWERS_PY, 'utf8'));
  expect(text).toContain(`_DRIVER_SOURCE = ${JSON.stringify(fs.readFileSync(REWARD_SOURCES.driver, 'utf8'))}`);
  for (const name of ['parse_student', 'compare_outcomes', 'strip_reasoning', 'parse_blocks', 'argument_list']) {
    expect(text.match(new RegExp(`^(def ${name}\\b|${name}\\s*=)`, 'gm'))).toHaveLength(1);
  }
  // And the generated file, imported, answers as Cairn's call does.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-answers-'));
  try {
    fs.writeFileSync(path.join(dir, 'cairn_reward.py'), text);
    const texts = [
      '```python\ndef f(x):\n    return x\n```',
      '<think>```output\n1\n```</think>```output\n2\n```',
      '```input\nf(1, 2,)\n```',
      'none',
    ];
    const r = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, json; sys.path.insert(0, sys.argv[1]); import cairn_reward as c; print(json.dumps([[list(c.parse_student(e, t)) for t in json.loads(sys.argv[2])] for e in ("induction", "deduction", "abduction")]))',
        dir,
        JSON.stringify(texts),
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const fromReward = JSON.parse(r.stdout) as [boolean, string][][];
    expect(fromReward[1]?.[1]).toEqual([true, '2']);
    expect(fromReward[2]?.[2]).toEqual([true, '1, 2']);
    for (const [k, env] of ['induction', 'deduction', 'abduction'].entries()) {
      expect(texts.map((t) => environment(env).parseStudent(t))).toEqual(
        fromReward[k]!.map(([ok, v]) => (ok ? { ok: true, value: v } : { ok: false, reason: v })),
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the comparison: ran and equal, exactly; at least one input; lengths must match', async () => {
  expect(compareOutcomes([{ status: 'ok', out: '3', wallMs: 0 }], ['3'])).toEqual({ verdicts: ['ok'], passed: 1, pass: true });
  const many = await compareMany([
    {
      outcomes: [
        { status: 'ok', out: '3', wallMs: 0 },
        { status: 'ok', out: 'True', wallMs: 0 },
      ],
      expected: ['3', '1'],
    },
    { outcomes: [{ status: 'memory_limit', wallMs: 0 }], expected: ['1'] },
    { outcomes: [{ status: 'ok', wallMs: 0 }], expected: [''] },
    { outcomes: [], expected: [] },
  ]);
  expect(many).toEqual([
    { verdicts: ['ok', 'wrong'], passed: 1, pass: false },
    { verdicts: ['memory_limit'], passed: 0, pass: false },
    { verdicts: ['wrong'], passed: 0, pass: false },
    { verdicts: [], passed: 0, pass: false },
  ]);
  expect(() => compareOutcomes([], ['1'])).toThrow(/0 outcomes for 1 expected/);
  await expect(parseAnswers('nope', ['x'])).rejects.toThrow(/unknown environment 'nope'/);
});
