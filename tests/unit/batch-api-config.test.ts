/** CAIRN_<ROLE>_API and the batch API's limits: parsed per role, bad values named with the fix. */
import { ConfigError, loadConfig } from '../../workers/config/load-config';

test('the API mode is per role, online by default; the batch limits default to OpenAI’s', () => {
  const cfg = loadConfig({ CAIRN_STUDENT_API: 'batch', CAIRN_STUDENT_BATCH_MAX_REQUESTS: '1000' });
  expect(cfg.teacher.api).toBe('online');
  expect(cfg.student.api).toBe('batch');
  expect(cfg.student.batch).toEqual({
    maxRequests: 1000,
    maxBytes: 200_000_000,
    collectMs: 60_000,
    pollMs: 30_000,
    completionWindow: '24h',
  });
  expect(cfg.teacher.batch.maxRequests).toBe(50_000);
});

test('a bad API mode or limit names the variable', () => {
  expect(() => loadConfig({ CAIRN_TEACHER_API: 'batched' })).toThrow(ConfigError);
  expect(() => loadConfig({ CAIRN_TEACHER_API: 'batched' })).toThrow(/CAIRN_TEACHER_API=batched .*"online".*"batch"/);
  expect(() => loadConfig({ CAIRN_STUDENT_BATCH_MAX_REQUESTS: '0' })).toThrow(
    /CAIRN_STUDENT_BATCH_MAX_REQUESTS=0 is not a whole number >= 1/,
  );
  expect(() => loadConfig({ CAIRN_STUDENT_BATCH_MAX_BYTES: '10' })).toThrow(/CAIRN_STUDENT_BATCH_MAX_BYTES/);
});
