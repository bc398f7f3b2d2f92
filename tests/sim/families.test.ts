/** Every family: hints read back exactly, code runs in python across difficulties, mutations bite. */
import { FAMILIES, paramsForDifficulty, writeInputs } from '../../scripts/sim/families';
import { Rng } from '../../scripts/sim/rng';
import { runPython, type PyJob } from './sim-helpers';

test('there are at least 8 families with distinct ids', () => {
  expect(FAMILIES.length).toBeGreaterThanOrEqual(8);
  expect(new Set(FAMILIES.map((f) => f.id)).size).toBe(FAMILIES.length);
});

describe.each(FAMILIES.map((f) => [f.id, f] as const))('%s', (_id, fam) => {
  test('the hint reads back into the same parameters, and only this family reads it', () => {
    const rng = Rng.from('roundtrip', fam.id);
    for (let i = 0; i < 150; i++) {
      const p = fam.sample(rng);
      const msg = fam.message(p);
      expect(fam.parse(msg)).toEqual(p);
      // Cairn may re-wrap the hint; the student should still read it.
      expect(fam.parse(`  ${msg.replace(/ /g, '\n ')}  `)).toEqual(p);
      for (const other of FAMILIES) if (other !== fam) expect(other.parse(msg)).toBeNull();
    }
    expect(fam.parse('Do something clever with the input.')).toBeNull();
  });

  test('the difficulty knob spans [0, 1]', () => {
    const rng = Rng.from('span', fam.id);
    const ds = Array.from({ length: 300 }, () => fam.difficulty(fam.sample(rng)));
    expect(Math.min(...ds)).toBeLessThan(0.1);
    expect(Math.max(...ds)).toBeGreaterThan(0.85);
    for (const target of [0.1, 0.5, 0.9]) {
      expect(Math.abs(fam.difficulty(paramsForDifficulty(fam, target, rng)) - target)).toBeLessThan(0.12);
    }
  });
});

test('every family runs in python without raising across difficulties, and its mutations are caught', async () => {
  const jobs: PyJob[] = [];
  const meta: Array<{ fam: string; bug: string | null; ref: number }> = [];
  for (const fam of FAMILIES) {
    const rng = Rng.from('exec', fam.id);
    for (let k = 0; k <= 10; k++) {
      for (let rep = 0; rep < 3; rep++) {
        const p = paramsForDifficulty(fam, k / 10, rng);
        const thorough = writeInputs(fam, p, rng, true).map((a) => a.join(', '));
        const lazy = writeInputs(fam, p, rng, false).map((a) => a.join(', '));
        expect(thorough).toHaveLength(5);
        expect(new Set(lazy).size).toBe(lazy.length);
        const ref = jobs.length;
        jobs.push({ code: fam.code(p), inputs: [...thorough, ...lazy], timeout: 1 });
        meta.push({ fam: fam.id, bug: null, ref });
        for (const bug of fam.bugs(p)) {
          jobs.push({ code: fam.code(p, new Set([bug])), inputs: thorough, timeout: 0.2 });
          meta.push({ fam: fam.id, bug, ref });
        }
      }
    }
  }
  const results = await runPython(jobs);
  const caught: Record<string, { n: number; caught: number }> = {};
  results.forEach((r, i) => {
    const m = meta[i];
    if (!m) return;
    if (m.bug === null) {
      expect({ fam: m.fam, status: r.status, errors: r.outcomes.filter((o) => !o.ok) }).toEqual({ fam: m.fam, status: 'ok', errors: [] });
      expect(r.outcomes).toHaveLength(10);
      return;
    }
    // A mutation is still valid Python; it may raise (a dropped edge case), but it must parse.
    expect({ fam: m.fam, bug: m.bug, status: r.status }).toEqual({ fam: m.fam, bug: m.bug, status: 'ok' });
    const ref = results[m.ref]?.outcomes.slice(0, 5);
    const c = (caught[m.fam] ??= { n: 0, caught: 0 });
    c.n++;
    if (JSON.stringify(r.outcomes) !== JSON.stringify(ref)) c.caught++;
  });
  for (const [fam, c] of Object.entries(caught)) {
    // Thorough inputs catch most single mistakes; the rest are why p = 1 can mean weak tests.
    if (process.env.SIM_TRACE) console.log(fam, (c.caught / c.n).toFixed(2));
    expect({ fam, rate: c.caught / c.n > 0.55 }).toEqual({ fam, rate: true });
  }
});
