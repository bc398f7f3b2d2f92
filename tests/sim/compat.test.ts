/**
 * Contract check against Cairn's own prompt renderer and answer parser (induction): whatever
 * Cairn sends, the simulator reads; whatever the simulator answers, Cairn parses. If this fails
 * after a change on either side, the protocol drifted.
 */
import {
  instructionText,
  parseStudent,
  parseTeacher,
  studentMessages,
  teacherMessages,
  type PreviousProblem,
} from '../../activities/environments/induction';
import { parseHint } from '../../scripts/sim/families';
import { parseTeacherPrompt } from '../../scripts/sim/prompt';
import { instructionMove } from '../../scripts/sim/induction-teacher';
import { startSim, type Harness } from './sim-helpers';

let h: Harness;
beforeAll(async () => {
  h = await startSim({ seed: 2, malformedRate: 0, reasoningStyle: 'think_tags' });
});
afterAll(async () => {
  await h.sim.close();
});

const SEEDS = [
  'def a(xs):\n    return [x for x in xs if x > 0]\n',
  'def b(s):\n    return s[::-1].upper()\n',
  'def c(d):\n    return sorted(d.items())\n',
];

test("Cairn's instructions carry the words the teacher reacts to", () => {
  expect(instructionMove(instructionText('harder', 0.9))).toBe('harder');
  expect(instructionMove(instructionText('harder_weak_tests', 1))).toBe('harder');
  expect(instructionMove(instructionText('easier', 0))).toBe('easier');
  for (const i of ['initial', 'keep', 'fix'] as const) expect(instructionMove(instructionText(i, 0.5))).toBe('keep');
});

test("Cairn's prompts in, Cairn's parsers out, over two turns", async () => {
  for (const seed of SEEDS) {
    const first = await h.client.chat.completions.create({ model: 'sim-teacher', messages: teacherMessages(seed, 'initial', null) });
    const p1 = parseTeacher(first.choices[0]?.message.content ?? '');
    if (!p1.ok) throw new Error(p1.reason);
    expect(p1.value.inputs).toHaveLength(5);
    const hint = parseHint(p1.value.message ?? '');
    expect(hint).not.toBeNull();

    const prev: PreviousProblem = {
      code: p1.value.code,
      inputs: p1.value.inputs,
      outputs: p1.value.inputs.map(() => '0'),
      message: p1.value.message,
      passRate: 1,
      attempts: 8,
      passed: 8,
      invalidReason: null,
      examples: [],
    };
    const msgs = teacherMessages(seed, 'harder', prev);
    const read = parseTeacherPrompt(msgs[1]?.content ?? '');
    expect(read.seed.trim()).toBe(seed.trim());
    expect(read.previous?.message).toBe(p1.value.message);
    const second = await h.client.chat.completions.create({ model: 'sim-teacher', messages: msgs });
    const p2 = parseTeacher(second.choices[0]?.message.content ?? '');
    if (!p2.ok) throw new Error(p2.reason);
    expect(parseHint(p2.value.message ?? '')?.family.id).toBe(hint?.family.id);

    const student = await h.client.chat.completions.create({
      model: 'sim-student',
      n: 4,
      messages: studentMessages(
        p2.value.message ?? '',
        p2.value.inputs,
        p2.value.inputs.map(() => '0'),
        3,
      ),
    });
    for (const c of student.choices) expect(parseStudent(c.message.content ?? '').ok).toBe(true);
  }
});
