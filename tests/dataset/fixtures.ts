/**
 * Rows written straight into a test database (plain SQL over the migrated tables, so the fixtures
 * do not depend on columns the schema may grow).
 */
import type { Pool } from 'pg';

export interface ProblemSpec {
  seed: string;
  turn: number;
  env?: string;
  status?: 'proposed' | 'invalid' | 'duplicate' | 'valid' | 'graded';
  /** Solved attempts out of `attempts` (default M = 32); graded problems only. */
  passed?: number;
  attempts?: number;
  reason?: string;
  level?: string;
  /** Key (`seed/turn`) of the problem this one duplicates. */
  dupOf?: string;
  /** Force a pass rate on a non-graded row (to prove the filter looks at status). */
  passRate?: number;
  /** Default: a small `def f(x)` naming the seed and turn. */
  code?: string;
}

export interface BatchSpec {
  id: string;
  settings: Record<string, unknown>;
  seeds: { id: string; snippet: string; source?: string }[];
  problems: ProblemSpec[];
  /** Teacher call per problem, one student call (n = M) per graded problem with M attempts. */
  llm?: { teacher: [number, number]; student: [number, number] };
}

export const specKey = (p: { seed: string; turn: number }) => `${p.seed}/${p.turn}`;

/** Writes the batch; returns problem ids by `seed/turn`. Problems are inserted in the order given. */
export async function insertBatch(pool: Pool, b: BatchSpec): Promise<Map<string, number>> {
  await pool.query('insert into batches (id, settings) values ($1, $2)', [b.id, JSON.stringify(b.settings)]);
  for (const s of b.seeds) {
    await pool.query(`insert into seeds (batch_id, seed_id, snippet, source, status) values ($1, $2, $3, $4, 'done')`, [
      b.id,
      s.id,
      s.snippet,
      s.source ?? null,
    ]);
  }
  const ids = new Map<string, number>();
  for (const p of b.problems) {
    const status = p.status ?? 'graded';
    const m = p.attempts ?? 32;
    const graded = status === 'graded';
    const parent = ids.get(specKey({ seed: p.seed, turn: p.turn - 1 })) ?? null;
    const key = `${b.id}/${p.seed}/t${p.turn}`;
    let teacherCall: number | null = null;
    if (b.llm) {
      const r = await pool.query<{ id: string }>(
        `insert into llm_calls (request_hash, role, model, request, choices, prompt_tokens, completion_tokens) values ($1, 'teacher', 'sim-teacher', '{"messages":[],"params":{}}', '["x"]', $2, $3) returning id`,
        [`${key}/teacher`, b.llm.teacher[0], b.llm.teacher[1]],
      );
      teacherCall = Number(r.rows[0]?.id);
    }
    const code = p.code ?? `def f(x):\n    # ${p.seed} turn ${p.turn}\n    return x * ${p.turn} + ${p.passed ?? 0}\n`;
    const r = await pool.query<{ id: string }>(
      `insert into problems (key, batch_id, seed_id, env, turn, parent_id, chain_id, level, instruction, status, invalid_reason, code, inputs, outputs, message,
         duplicate_of, attempts, passed, pass_rate, teacher_call_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) returning id`,
      [
        key,
        b.id,
        p.seed,
        p.env ?? 'induction',
        p.turn,
        parent,
        `${b.id}/${p.seed}`,
        p.level ?? null,
        p.turn === 1 ? 'initial' : 'harder',
        status,
        status === 'invalid' ? (p.reason ?? 'invalid') : null,
        status === 'invalid' ? null : code,
        JSON.stringify(['1', "'a', [2, 3]", '{"k": 1}']),
        JSON.stringify(['2', "'a'", 'None']),
        `hint for ${p.seed} turn ${p.turn}`,
        p.dupOf ? (ids.get(p.dupOf) ?? null) : null,
        graded ? m : null,
        graded ? (p.passed ?? 0) : null,
        graded ? (p.passed ?? 0) / m : (p.passRate ?? null),
        teacherCall,
      ],
    );
    const id = Number(r.rows[0]?.id);
    ids.set(specKey(p), id);
    if (b.llm && graded) {
      const c = await pool.query<{ id: string }>(
        `insert into llm_calls (request_hash, role, model, request, choices, prompt_tokens, completion_tokens) values ($1, 'student', 'sim-student', '{"messages":[],"params":{}}', '["x"]', $2, $3) returning id`,
        [`${key}/student`, b.llm.student[0], b.llm.student[1]],
      );
      await pool.query(
        `insert into attempts (problem_id, idx, llm_call_id, completion) select $1, g, $2, 'x' from generate_series(0, $3 - 1) g`,
        [id, Number(c.rows[0]?.id), m],
      );
    }
  }
  return ids;
}
