import { environment } from './activities/environments';
import { draftFuzz } from './scripts/sim/envTeacher';
import { parseTeacherPrompt } from './scripts/sim/prompt';
import { Rng } from './scripts/sim/rng';
import { parseSimSettings } from './scripts/sim/settings';
import * as py from './scripts/sim/pyexec';
(async () => {
  const e = environment('fuzzing');
  const s = parseSimSettings({ malformedRate: 1 });
  for (let i = 0; i < 20; i++) {
    const t = Date.now();
    const prompt = parseTeacherPrompt(e.teacherMessages(`seed number ${i}`, 'initial', null)[1]?.content ?? '');
    const d = await draftFuzz(prompt, s, Rng.from('d', 'fuzzing', i));
    console.log(i, d.family.id, d.fault, Date.now() - t);
  }
})();
