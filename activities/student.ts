import type { Database } from '../db/client';
import { getProblem, insertAttempts, listAttempts, updateProblem } from '../db/queries/problems';
import { environment } from './environments';
import { parseAnswers } from './environments/answers-py';
import { withHeartbeat } from './heartbeat';
import { sampleOrReason } from './llm/sample-outcome';
import type { LlmClient } from './llm/llm-client';
import { provenanceRecorder } from './usage-recorder';
import { settingsReader } from './settings-reader';

export interface StudentDeps {
  db: Database;
  student: LlmClient;
}

export function createStudentActivities({ db, student }: StudentDeps) {
  const settingsOf = settingsReader(db);
  const recordUse = provenanceRecorder(db, 'student', student.provenance ?? { model: student.model });
  return {
    /**
     * Asks the student for M attempts at a valid problem and records them. Returns how many exist:
     * fewer than M only when the problem failed for want of samples (status 'failed', with the reason).
     */
    async attemptProblem(inp: { problemId: number; attempts: number }): Promise<number> {
      const existing = await listAttempts(db, inp.problemId);
      if (existing.length >= inp.attempts) return existing.length;
      const p = await getProblem(db, inp.problemId);
      if (p.status === 'failed') return existing.length;
      if (!p.code || !p.inputs || !p.outputs) throw new Error(`problem ${p.id} is not validated; cannot ask the student`);
      const { visiblePairs, sampleSalt } = await settingsOf(p.batchId);
      const env = environment(p.env);
      const messages = env.studentMessages({ code: p.code, inputs: p.inputs, outputs: p.outputs, message: p.message }, { visiblePairs });
      await recordUse(p.batchId);
      const res = await sampleOrReason(() =>
        withHeartbeat((signal) => student.complete(messages, { n: inp.attempts, signal, salt: sampleSalt })),
      );
      if ('reason' in res) {
        // The endpoint's failure, not the student's: the problem is never graded on samples that did not come.
        await updateProblem(db, p.id, {
          status: 'failed',
          invalidReason: `student samples missing (not counted as student failures): ${res.reason}`,
        });
        return existing.length;
      }
      // Parsed in one call by answers.py, the parser the exported trainer reward runs too.
      const answers = await parseAnswers(p.env, res.choices);
      await insertAttempts(
        db,
        res.choices.map((_completion, idx) => {
          const parsed = answers[idx] ?? { ok: false, reason: 'no answer' };
          return {
            // The completion itself stays in the sample's llm_calls row: stored once.
            problemId: p.id,
            idx,
            llmCallId: res.callIds[idx] ?? res.callId,
            answer: parsed.ok ? parsed.value : null,
            parseError: parsed.ok ? null : parsed.reason,
          };
        }),
      );
      return res.choices.length;
    },
  };
}
