/**
 * Jest, slow tier (`npm run test:slow`, in band): the chaos run, the starter and a grader killed mid-run, the scale
 * smoke test. Each runs a whole stack of processes for minutes; CI runs this tier as its own step.
 */
const { base, SLOW } = require('./jest.config').slowTier;

module.exports = { ...base, testMatch: SLOW.globs };
