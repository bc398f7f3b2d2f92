/**
 * Turns a chat request into answers. Content is a pure function of (settings.seed, model,
 * messages, request seed, choice index) and the role's settings: no clock, no arrival order.
 */
import type { Role } from './faults';
import { parseStudentPrompt, parseTeacherPrompt } from './prompt';
import { Rng } from './rng';
import type { SimSettings } from './settings';
import { attempt, renderStudent, studentReasoning } from './student';
import { draftProblem, renderTeacher, teacherReasoning } from './teacher';

export interface ChatMessageIn {
  role: string;
  content: string;
}

export interface Choice {
  content: string;
  /** Set only for reasoningStyle 'reasoning_content'. */
  reasoning: string | null;
}

/** The models the simulator serves. */
export const SIM_MODELS = ['sim-teacher', 'sim-student'] as const;

/** The role is decided by the model name (any model containing `teacher` / `student`). */
export function roleOf(model: string): Role | null {
  const m = model.toLowerCase();
  if (m.includes('teacher')) return 'teacher';
  if (m.includes('student')) return 'student';
  return null;
}

function style(settings: Readonly<SimSettings>, answer: string, reasoning: string): Choice {
  switch (settings.reasoningStyle) {
    case 'none':
      return { content: answer, reasoning: null };
    case 'think_tags':
      return { content: `<think>\n${reasoning}\n</think>\n\n${answer}`, reasoning: null };
    case 'reasoning_content':
      return { content: answer, reasoning };
  }
}

/** `n` answers to one request (choice i uses its own stream, so attempts are independent). */
export function answer(
  settings: Readonly<SimSettings>,
  role: Role,
  model: string,
  messages: readonly ChatMessageIn[],
  requestSeed: number | null,
  n: number,
): Choice[] {
  const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const out: Choice[] = [];
  for (let i = 0; i < n; i++) {
    const rng = Rng.from('content', settings.seed, model, messages, requestSeed, i);
    if (role === 'teacher') {
      const draft = draftProblem(parseTeacherPrompt(user), settings, rng);
      out.push(style(settings, renderTeacher(draft), teacherReasoning(draft)));
    } else {
      const prompt = parseStudentPrompt(user);
      const a = attempt(prompt, settings, rng);
      out.push(style(settings, renderStudent(a), studentReasoning(a, prompt)));
    }
  }
  return out;
}
