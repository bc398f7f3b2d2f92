import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../db/client';
import { getSeed } from '../db/queries/batches';
import { sampleTexts } from '../db/queries/llm';
import { getProblem, getProblemByKey, insertProblem, listGradedAttempts } from '../db/queries/problems';
import type { EnvName, Instruction, Level } from '../workflows/contracts';
import { ERR, problemKey } from '../workflows/contracts';
import { truncate } from './environments/blocks';
import { environment } from './environments';
import { responseFormat as problemResponseFormat, structuredMessages } from './environments/structured';
import type { PreviousProblem } from './environments/environment';
import { withHeartbeat } from './heartbeat';
import { sampleOrReason } from './llm/sample-outcome';
import type { LlmClient } from './llm/llm-client';
import { provenanceRecorder } from './usage-recorder';
import { settingsReader } from './settings-reader';

export interface TeacherDeps {
  db: Database;
  teacher: LlmClient;
}

export interface ProposeInput {
  batchId: string;
  seedId: string;
  env: EnvName;
  turn: number;
  instruction: Instruction;
  /** The problem this turn refines (null on turn 1). */
  prevProblemId: number | null;
  /** Chain mode: the level this problem is meant to be. */
  level?: Level | null;
  /** Sample index for independent calls with the same prompt (single-turn mode). */
  sample?: number;
}

export interface ProposeResult {
  problemId: number;
  parsed: boolean;
}

/** Loads what the teacher is shown of its previous problem: the performance summary. */
export async function loadPrevious(db: Database, id: number): Promise<PreviousProblem> {
  const p = await getProblem(db, id);
  const graded = p.status === 'graded' ? await listGradedAttempts(db, id) : [];
  const solved = graded.filter((g) => g.grade.verdict === 'pass').slice(0, 2);
  const failed = graded.filter((g) => g.grade.verdict === 'fail').slice(0, 2);
  // An unparseable answer is shown as its completion, which lives once, in the sample's llm_calls row.
  const texts = await sampleTexts(
    db,
    [...solved, ...failed].filter((g) => g.attempt.answer === null && g.attempt.completion === null).map((g) => g.attempt.llmCallId),
  );
  return {
    code: p.code,
    inputs: p.inputs ?? [],
    outputs: p.outputs,
    message: p.message,
    passRate: p.passRate,
    attempts: p.attempts,
    passed: p.passed,
    invalidReason: p.status === 'invalid' || p.status === 'duplicate' ? (p.invalidReason ?? 'invalid') : null,
    examples: [...solved, ...failed].map((g) => ({
      answer: truncate(g.attempt.answer ?? g.attempt.completion ?? texts.get(g.attempt.llmCallId) ?? '', 1500),
      failure: g.grade.verdict === 'pass' ? null : (g.grade.failure ?? 'failed'),
    })),
  };
}

export function createTeacherActivities({ db, teacher }: TeacherDeps) {
  const settingsOf = settingsReader(db);
  const recordUse = provenanceRecorder(db, 'teacher', teacher.provenance ?? { model: teacher.model });
  return {
    /** Asks the teacher for this turn's problem and records it (parsed or with the parse error). */
    async proposeProblem(inp: ProposeInput): Promise<ProposeResult> {
      const key = problemKey(inp.batchId, inp.seedId, inp.turn);
      const done = await getProblemByKey(db, key);
      if (done) return { problemId: done.id, parsed: done.status !== 'invalid' };
      const [seed, settings] = await Promise.all([getSeed(db, inp.batchId, inp.seedId), settingsOf(inp.batchId)]);
      if (!seed) {
        throw ApplicationFailure.create({
          type: ERR.badBatch,
          nonRetryable: true,
          message: `seed ${inp.seedId} of batch ${inp.batchId} is not in Postgres`,
        });
      }
      const prev = inp.prevProblemId === null ? null : await loadPrevious(db, inp.prevProblemId);
      const env = environment(inp.env);
      const plain = env.teacherMessages(seed.snippet, inp.instruction, prev, settings.chainBins);
      // Structured mode: the same request, restated as JSON and sent with the problem's JSON schema.
      const structured = teacher.structured === 'json_schema';
      const messages = structured ? structuredMessages(inp.env, plain) : plain;
      const responseFormat = structured ? problemResponseFormat(inp.env) : undefined;
      await recordUse(inp.batchId);
      const got = await sampleOrReason(() =>
        withHeartbeat((signal) =>
          teacher.complete(messages, { n: 1, signal, sample: inp.sample, responseFormat, salt: settings.sampleSalt }),
        ),
      );
      // A refused request (context length, content filter...) is this turn's fault, not the endpoint's: the turn is invalid, the seed goes on.
      const parsed = 'reason' in got ? { ok: false as const, reason: got.reason } : env.parseTeacher(got.choices[0] ?? '');
      const row = await insertProblem(db, {
        key,
        batchId: inp.batchId,
        seedId: inp.seedId,
        env: inp.env,
        turn: inp.turn,
        parentId: inp.prevProblemId,
        chainId: `${inp.batchId}/${inp.seedId}`,
        instruction: inp.instruction,
        level: inp.level ?? null,
        teacherCallId: 'reason' in got ? null : got.callId,
        ...(parsed.ok
          ? { status: 'proposed' as const, code: parsed.value.code, inputs: parsed.value.inputs, message: parsed.value.message }
          : { status: 'invalid' as const, invalidReason: parsed.reason }),
      });
      return { problemId: row.id, parsed: row.status !== 'invalid' };
    },
  };
}
