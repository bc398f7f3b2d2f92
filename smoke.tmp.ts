import OpenAI from 'openai';
import { createSimServer } from './scripts/sim';
import { environment } from './activities/environments';
import { createSandbox, compareOutcomes } from './activities/sandbox';
(async () => {
  const sim = await createSimServer({ port: 0, seed: 3, malformedRate: 0 });
  const client = new OpenAI({ baseURL: sim.url, apiKey: 'x', maxRetries: 0 });
  const sb = await createSandbox({ stateDir: '/work/main/.tools' });
  for (const name of ['deduction', 'abduction', 'fuzzing']) {
    const env = environment(name);
    for (const seed of ['def a(xs):\n  return sum(xs)\n', 'def b(s):\n  return s.upper()\n', 'x = 3\n']) {
      const t0 = Date.now();
      const r = await client.chat.completions.create({ model: 'sim-teacher', messages: env.teacherMessages(seed, 'initial', null) });
      const text = r.choices[0]?.message.content ?? '';
      const p = env.parseTeacher(text);
      if (!p.ok) { console.log(name, 'PARSE FAIL', p.reason); continue; }
      const v = env.validation(p.value);
      const run = await sb.run({ ...v, timeLimitMs: 1000 });
      if (run.outcomes.some((o) => o.status !== 'ok')) { console.log(name, 'INVALID', JSON.stringify(run.outcomes), '\n' + text); continue; }
      const ex = { ...p.value, outputs: run.outcomes.map((o) => o.out ?? '') };
      const chk = env.checkOutputs(ex);
      if (chk) { console.log(name, 'CHECK', chk); continue; }
      const s = await client.chat.completions.create({ model: 'sim-student', n: 16, messages: env.studentMessages(ex, { visiblePairs: 3 }) });
      let pass = 0; const fails: string[] = [];
      for (const c of s.choices) {
        const a = env.parseStudent(c.message.content ?? '');
        if (!a.ok) { fails.push('parse:' + a.reason); continue; }
        const j = env.gradeJob(ex, a.value);
        const g = await sb.run({ code: j.code, entry: j.entry, inputs: j.inputs, timeLimitMs: 1000 });
        const cmp = compareOutcomes(g.outcomes, j.expected);
        if (cmp.pass) pass++; else fails.push(a.value.slice(0, 40) + ' => ' + (g.outcomes[0]?.error ?? g.outcomes[0]?.out)?.slice(0, 80));
      }
      console.log(name, 'p=', pass / 16, Date.now() - t0, 'ms');
      if (seed.startsWith('def a')) { console.log(text); console.log(env.studentMessages(ex, { visiblePairs: 3 })[1]?.content); console.log(s.choices.slice(0, 3).map((c) => c.message.content).join('\n---\n')); }
      console.log(fails.slice(0, 5).join('\n'));
    }
  }
  await sb.close(); await sim.close();
})();
