/**
 * `npm run bench:sampling`: the same seeds through fixed M = 32 and adaptive sampling, with the
 * simulator (which knows each problem's true probability of a correct attempt).
 *
 * How: a plain in-process loop calls Cairn's real activities (teacher, validation, student, grading
 * in the real sandbox) against the simulator over HTTP, each leg in a fresh database (so each pays
 * for its own samples); the adaptive leg runs the same rounds as SeedWorkflow's adaptive path
 * (student.attemptProblem for 4, 8, 16, ... then grader.gradeAttempts with `round`, which decides).
 * Temporal is left out: it does not change which samples are asked for or how they are decided.
 * Every seed gets --turns independent first drafts (the teacher's prior, single-turn style), so
 * both legs see the same problems. Fixed M = 8 is read from the first 8 samples of the fixed leg,
 * which are exactly what an M = 8 run asks for (samples are cached per request and index).
 *
 * Flags: --seeds N (24) --turns T (2) --attempts M (32) --confidence L (0.95) --window W (8)
 * Last line: `adaptive/fixed samples ratio R, agreement A`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { activitiesFor } from '../../activities';
import { createLlmClient } from '../../activities/llm/llm-client';
import { createSandbox } from '../../activities/sandbox';
import { listSeedIds, upsertBatch } from '../../db/queries/batches';
import { attempts, grades, llmCalls, problems } from '../../db/schema';
import { loadConfig } from '../../workers/config/load-config';
import { batchSettingsFrom } from '../../workflows/contracts';
import { FILTER_BAND } from '../../workflows/method/numbers';
import { nextInstruction } from '../../workflows/method/progression';
import { samplingRounds } from '../../workflows/method/sampling';
import { binOf } from '../dataset/bins';
import { loadSeeds } from '../lib/load-seeds';
import { cutSeeds, stdlibDir, writeSeedFile } from '../lib/seed-file';
import { createSimServer, DEFAULT_SIM_SETTINGS } from '../sim';
import { parseHint } from '../sim/families';
import { sigmoid } from '../sim/rng';
import { arg, freshDb, pool } from './bench-stack';

type Leg = 'fixed' | 'adaptive';

interface Outcome {
  key: string;
  message: string | null;
  samples: number;
  passed: number;
  passRate: number;
  /** Verdicts in sample order (pass = true). */
  verdicts: boolean[];
  tokens: number;
}

const usable = (p: number) => p >= FILTER_BAND.min - 1e-9 && p <= FILTER_BAND.max + 1e-9;

/** The simulator's probability of a correct attempt at an induction problem (its hint names the family and parameters). */
function trueP(message: string | null): number | null {
  const hint = message ? parseHint(message) : null;
  if (!hint) return null;
  return sigmoid(DEFAULT_SIM_SETTINGS.sharpness * (DEFAULT_SIM_SETTINGS.skill - hint.family.difficulty(hint.params)));
}

async function runLeg(leg: Leg, o: { seedsFile: string; simUrl: string; turns: number; m: number; confidence: number; window: number }) {
  const d = await freshDb(`sampling_${leg}`);
  const cfg = loadConfig({
    ...process.env,
    CAIRN_TEACHER_BASE_URL: o.simUrl,
    CAIRN_STUDENT_BASE_URL: o.simUrl,
    DATABASE_URL: d.url,
    // One request per sample (seed = its index), as against an endpoint without `n`: both legs then
    // ask for literally the same samples, so the comparison is paired (only the stopping differs).
    CAIRN_STUDENT_USE_N: '0',
  });
  const sandbox = await createSandbox({
    stateDir: cfg.sandbox.stateDir,
    slots: cfg.sandbox.slots,
    uidBase: cfg.sandbox.uidBase,
    memoryMb: cfg.sandbox.memoryMb,
  });
  try {
    const teacher = activitiesFor('teacher', { db: d.db, teacher: createLlmClient(d.db, 'teacher', cfg.teacher) });
    const student = activitiesFor('student', { db: d.db, student: createLlmClient(d.db, 'student', cfg.student) });
    const grader = activitiesFor('grader', { db: d.db, sandbox, wallFactor: cfg.sandbox.wallFactor });
    const batchId = 'bench-sampling';
    await upsertBatch(
      d.db,
      batchId,
      batchSettingsFrom({ seedFile: o.seedsFile, turns: o.turns, attempts: o.m, sampling: leg, confidence: o.confidence, decontam: 'off' }),
    );
    await loadSeeds(d.db, batchId, o.seedsFile, { skipBad: false });
    const t0 = Date.now();
    await pool(await listSeedIds(d.db, batchId), o.window, async (seedId) => {
      for (let turn = 1; turn <= o.turns; turn++) {
        const p = await teacher.proposeProblem({
          batchId,
          seedId,
          env: 'induction',
          turn,
          instruction: nextInstruction(undefined),
          prevProblemId: null,
          level: null,
          sample: turn,
        });
        if (!p.parsed || !(await grader.validateProblem({ problemId: p.problemId })).valid) continue;
        if (leg === 'fixed') {
          if ((await student.attemptProblem({ problemId: p.problemId, attempts: o.m })) < o.m) continue;
          await grader.gradeAttempts({ problemId: p.problemId });
        } else {
          for (const n of samplingRounds(o.m)) {
            if ((await student.attemptProblem({ problemId: p.problemId, attempts: n })) < n) break;
            if ((await grader.gradeAttempts({ problemId: p.problemId, round: { of: o.m } })).settled !== false) break;
          }
        }
      }
    });
    const ms = Date.now() - t0;
    const graded = await d.db
      .select()
      .from(problems)
      .where(and(eq(problems.batchId, batchId), eq(problems.status, 'graded')));
    const ids = graded.map((g) => g.id);
    const rows = ids.length
      ? await d.db
          .select({
            problemId: attempts.problemId,
            idx: attempts.idx,
            verdict: grades.verdict,
            pt: llmCalls.promptTokens,
            ct: llmCalls.completionTokens,
          })
          .from(attempts)
          .innerJoin(grades, eq(grades.attemptId, attempts.id))
          .innerJoin(llmCalls, eq(llmCalls.id, attempts.llmCallId))
          .where(inArray(attempts.problemId, ids))
      : [];
    const by = new Map<number, { idx: number; pass: boolean; tokens: number }[]>();
    for (const r of rows) {
      const l = by.get(r.problemId) ?? [];
      l.push({ idx: r.idx, pass: r.verdict === 'pass', tokens: r.pt + r.ct });
      by.set(r.problemId, l);
    }
    const out = new Map<string, Outcome>();
    for (const g of graded) {
      const l = (by.get(g.id) ?? []).sort((a, b) => a.idx - b.idx);
      out.set(`${g.seedId}/${g.turn}`, {
        key: `${g.seedId}/${g.turn}`,
        message: g.message,
        samples: g.attempts ?? 0,
        passed: g.passed ?? 0,
        passRate: g.passRate ?? 0,
        verdicts: l.map((x) => x.pass),
        tokens: l.reduce((a, x) => a + x.tokens, 0),
      });
    }
    return { out, ms };
  } finally {
    await sandbox.close();
    await d.drop();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-sampling-'));
  const o = {
    seedsFile: path.join(tmp, 'seeds.jsonl'),
    turns: arg('turns', 2),
    m: arg('attempts', 32),
    confidence: arg('confidence', 0.95),
    window: arg('window', 8),
    simUrl: '',
  };
  const seeds = arg('seeds', 24);
  writeSeedFile(o.seedsFile, cutSeeds({ from: stdlibDir(), count: seeds, minLines: 25, maxLines: 50, ext: '.py', seed: 21 }));
  const sim = await createSimServer({ port: 0, seed: 4 });
  o.simUrl = sim.url;
  console.log(
    `bench:sampling: ${seeds} seeds x ${o.turns} first drafts (induction), fixed M=${o.m} vs adaptive (rounds ${samplingRounds(o.m).join(', ')}; Wilson ${o.confidence}); ` +
      'real activities, simulator over HTTP, real sandbox; no Temporal (plain loop)',
  );
  try {
    const fixed = await runLeg('fixed', o);
    const adaptive = await runLeg('adaptive', o);
    const keys = [...fixed.out.keys()].filter((k) => adaptive.out.has(k));
    const pairs = keys.map((k) => [fixed.out.get(k) as Outcome, adaptive.out.get(k) as Outcome] as const);
    let agreeUsable = 0;
    let agreeBin = 0;
    let agreeBoth = 0;
    let agreeNext = 0;
    let prefixSame = 0;
    /** Disagreements where fixed M decides on a single sample: 1 or M - 1 solved. */
    let onOne = 0;
    const err = { f32: 0, f8: 0, ad: 0, n: 0 };
    const binRight = { f32: 0, f8: 0, ad: 0 };
    for (const [f, a] of pairs) {
      const uf = usable(f.passRate);
      const ua = usable(a.passRate);
      const bf = binOf(f.passRate, 'broad');
      const ba = binOf(a.passRate, 'broad');
      if (uf === ua) agreeUsable++;
      if (bf === ba) agreeBin++;
      if (uf === ua && (!uf || bf === ba)) agreeBoth++;
      else if (f.passed === 1 || f.passed === f.samples - 1) onOne++;
      if (nextInstruction({ valid: true, passRate: f.passRate }) === nextInstruction({ valid: true, passRate: a.passRate })) agreeNext++;
      if (a.verdicts.every((v, i) => f.verdicts[i] === v)) prefixSame++;
      const t = trueP(f.message);
      if (t !== null) {
        const eight = f.verdicts.slice(0, 8);
        err.f32 += Math.abs(f.passRate - t);
        err.f8 += Math.abs(eight.filter(Boolean).length / Math.max(1, eight.length) - t);
        err.ad += Math.abs(a.passRate - t);
        err.n++;
        const bt = binOf(t, 'broad');
        if (binOf(f.passRate, 'broad') === bt) binRight.f32++;
        if (binOf(eight.filter(Boolean).length / Math.max(1, eight.length), 'broad') === bt) binRight.f8++;
        if (binOf(a.passRate, 'broad') === bt) binRight.ad++;
      }
    }
    const sum = (xs: Iterable<Outcome>, f: (x: Outcome) => number) => [...xs].reduce((acc, x) => acc + f(x), 0);
    const legRow = (name: string, out: Map<string, Outcome>, ms: number) => {
      const all = [...out.values()];
      const nUsable = all.filter((x) => usable(x.passRate)).length;
      const samples = sum(all, (x) => x.samples);
      const tokens = sum(all, (x) => x.tokens);
      return {
        name,
        graded: all.length,
        usable: nUsable,
        samples,
        tokens,
        line:
          `${name.padEnd(10)} ${String(all.length).padStart(6)} ${String(nUsable).padStart(6)} ${String(samples).padStart(8)} ${(samples / Math.max(1, all.length)).toFixed(1).padStart(8)} ` +
          `${(samples / Math.max(1, nUsable)).toFixed(1).padStart(10)} ${Math.round(tokens / Math.max(1, nUsable))
            .toString()
            .padStart(11)} ${(ms / 1000).toFixed(0).padStart(6)}`,
      };
    };
    const F = legRow('fixed', fixed.out, fixed.ms);
    const A = legRow('adaptive', adaptive.out, adaptive.ms);
    console.log(
      `\n${'leg'.padEnd(10)} ${'graded'.padStart(6)} ${'usable'.padStart(6)} ${'samples'.padStart(8)} ${'/graded'.padStart(8)} ${'/usable'.padStart(10)} ${'tokens/usbl'.padStart(11)} ${'s'.padStart(6)}`,
    );
    console.log(F.line);
    console.log(A.line);
    const ratio = A.samples / Math.max(1, F.samples);
    const n = Math.max(1, pairs.length);
    console.log(
      `\nsamples ratio adaptive/fixed ${ratio.toFixed(2)}; per usable problem ${(A.samples / Math.max(1, A.usable) / (F.samples / Math.max(1, F.usable))).toFixed(2)}; ` +
        `student tokens per usable problem ${(A.tokens / Math.max(1, A.usable) / (F.tokens / Math.max(1, F.usable))).toFixed(2)}`,
    );
    console.log(
      `agreement with fixed M=${o.m} over ${pairs.length} problems graded by both: usable or not ${pct(agreeUsable / n)}, broad bin ${pct(agreeBin / n)}, ` +
        `both ${pct(agreeBoth / n)}, next instruction ${pct(agreeNext / n)}; adaptive's samples are fixed's first ones in ${prefixSame}/${pairs.length}; ` +
        `of the ${pairs.length - agreeBoth} disagreements, ${onOne} are problems fixed M=${o.m} calls usable on one sample (1 or ${o.m - 1} solved)`,
    );
    if (err.n)
      console.log(
        `mean |estimate - true P(correct)| over ${err.n} problems: fixed M=${o.m} ${(err.f32 / err.n).toFixed(3)}, fixed M=8 ${(err.f8 / err.n).toFixed(3)}, ` +
          `adaptive ${(err.ad / err.n).toFixed(3)}; broad bin of the true value hit: fixed M=${o.m} ${pct(binRight.f32 / err.n)}, fixed M=8 ${pct(binRight.f8 / err.n)}, ` +
          `adaptive ${pct(binRight.ad / err.n)} (the true value leaves out wrong answers that pass weak tests, so estimates sit a little above it)`,
      );
    console.log(`adaptive/fixed samples ratio ${ratio.toFixed(2)}, agreement ${(agreeBoth / n).toFixed(3)}`);
  } finally {
    await sim.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
