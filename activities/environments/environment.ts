/**
 * What an environment is: its teacher prompt (turn 1 and refinement), the parser of the teacher's
 * blocks, what the validator executes, the student prompt and answer parser, and how an answer is
 * graded. Every grade is "run this in the sandbox and compare canonical outputs with these", so the
 * host-side comparison (never the sandbox) decides rewards for every environment.
 */
import type { EnvName, Instruction } from '../../workflows/contracts';
import type { ChainBins } from '../../workflows/method/numbers';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A problem as the teacher wrote it (after parsing). */
export interface ProblemText {
  /** The python block: `f` (and for fuzzing `pre_test_f` and `test_f`). */
  code: string;
  /** Python-literal argument lists. */
  inputs: string[];
  /** The hint (induction), or null where the environment has none. */
  message: string | null;
}

/** A valid problem: its outputs come from executing the code, never from the teacher's text. */
export interface ExecutedProblem extends ProblemText {
  outputs: string[];
}

/** What the teacher is shown of its previous problem (the performance summary). */
export interface PreviousProblem {
  code: string | null;
  inputs: string[];
  outputs: string[] | null;
  message: string | null;
  passRate: number | null;
  attempts: number | null;
  passed: number | null;
  invalidReason: string | null;
  /** A few solved and failed attempts, already truncated. */
  examples: { answer: string; failure: string | null }[];
}

/** One sandbox job and the canonical outputs it must produce for a reward of 1. */
export interface GradeJob {
  code: string;
  entry: string;
  inputs: string[];
  expected: string[];
}

export interface Environment {
  readonly name: EnvName;
  /** `bins`: the batch's chain bins (default the paper's), rendered into chain instructions. */
  teacherMessages(seed: string, instr: Instruction, prev: PreviousProblem | null, bins?: ChainBins): ChatMessage[];
  parseTeacher(text: string): ParseResult<ProblemText>;
  /** What the validator runs (twice) to get gold outputs and check determinism. */
  validation(p: ProblemText): { code: string; entry: string; inputs: string[] };
  /** Checks on the executed outputs beyond "ran, deterministic"; a reason when invalid. */
  checkOutputs(p: ExecutedProblem): string | null;
  studentMessages(p: ExecutedProblem, opts: { visiblePairs: number }): ChatMessage[];
  /** The student's answer: code (induction) or a Python literal (the others). */
  parseStudent(text: string): ParseResult<string>;
  /** The sandbox job that decides the reward of one answer. */
  gradeJob(p: ExecutedProblem, answer: string): GradeJob;
}
