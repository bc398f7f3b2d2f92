/**
 * Turns a chat request into answers. Content is a pure function of (settings.seed, model,
 * messages, request seed, choice index) and the role's settings: no clock, no arrival order.
 */
import { simEnv } from './envs';
import { envAttempts, envStudentReasoning, renderEnvStudent } from './envStudent';
import { draftFuzz, draftSingle, envTeacherReasoning, renderEnvTeacher } from './envTeacher';
import type { Role } from './faults';
import { parseStudentPrompt, parseTeacherPrompt } from './prompt';
import { Rng } from './rng';
import type { SimSettings } from './settings';
import { attempt, renderStudent, studentReasoning } from './induction-student';
import { draftProblem, renderTeacher, teacherReasoning } from './induction-teacher';

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

/**
 * `n` answers to one request (choice i uses its own stream, so attempts are independent). The
 * environment comes from the prompt's `# Environment:` line (induction when absent).
 */
export async function answer(
  settings: Readonly<SimSettings>,
  role: Role,
  model: string,
  messages: readonly ChatMessageIn[],
  requestSeed: number | null,
  n: number,
): Promise<Choice[]> {
  const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const rngs = Array.from({ length: n }, (_x, i) => Rng.from('content', settings.seed, model, messages, requestSeed, i));
  if (role === 'teacher') {
    const prompt = parseTeacherPrompt(user);
    const env = simEnv(prompt.env);
    const out: Choice[] = [];
    for (const rng of rngs) {
      if (env === 'induction') {
        const draft = draftProblem(prompt, settings, rng);
        out.push(style(settings, renderTeacher(draft), teacherReasoning(draft)));
      } else {
        const draft = env === 'fuzzing' ? await draftFuzz(prompt, settings, rng) : await draftSingle(env, prompt, settings, rng);
        out.push(style(settings, renderEnvTeacher(draft), envTeacherReasoning(draft)));
      }
    }
    return out;
  }
  const prompt = parseStudentPrompt(user);
  const env = simEnv(prompt.env);
  if (env === 'induction') {
    return rngs.map((rng) => {
      const a = attempt(prompt, settings, rng);
      return style(settings, renderStudent(a), studentReasoning(a, prompt));
    });
  }
  const attempts = await envAttempts(env, prompt, settings, rngs);
  return attempts.map((a) => style(settings, renderEnvStudent(env, a), envStudentReasoning(env, a)));
}
