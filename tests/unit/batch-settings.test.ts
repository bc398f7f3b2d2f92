/** The one route of a batch's settings: validated once, recorded, read back typed; prompts render the method's numbers. */
import { instructionText } from '../../activities/environments/summary';
import {
  BatchSettingsError,
  batchSettingsFrom,
  batchWorkflowInputFrom,
  parseBatchSettings,
  parseChainBinsSpec,
} from '../../workflows/contracts';
import { PAPER_CHAIN_BINS, TARGET_BAND, percentRange } from '../../workflows/method/numbers';

describe('batch settings', () => {
  it('fills the defaults and names the flag of a bad value', () => {
    const s = batchSettingsFrom({ seedFile: '/s.jsonl' });
    expect(s).toMatchObject({
      env: 'induction',
      mode: 'multi',
      turns: 4,
      attempts: 8,
      dedup: 'global',
      visiblePairs: 3,
      timeLimitMs: 2000,
      timeSlack: 10,
    });
    expect(s.chainBins).toEqual(PAPER_CHAIN_BINS);
    expect(() => batchSettingsFrom({ seedFile: 'x', visiblePairs: -1 })).toThrow(/--visible-pairs -1/);
    expect(() => batchSettingsFrom({ seedFile: 'x', timeLimitMs: 5 })).toThrow(/--time-limit-ms 5: must be a whole number >= 100/);
    expect(() => batchSettingsFrom({ seedFile: 'x', dedup: 'sometimes' })).toThrow(/--dedup sometimes/);
    expect(() => batchSettingsFrom({ seedFile: 'x', mode: 'loop' })).toThrow(BatchSettingsError);
  });

  it('--near-dup: off by default, a threshold in (0, 1], a clear error otherwise', () => {
    expect(batchSettingsFrom({ seedFile: 'x' }).nearDup).toBe('off');
    expect(batchSettingsFrom({ seedFile: 'x', nearDup: '0.8' }).nearDup).toBe(0.8);
    expect(batchSettingsFrom({ seedFile: 'x', nearDup: 1 }).nearDup).toBe(1);
    for (const bad of ['0', '1.5', 'high', '', '-0.2']) {
      expect(() => batchSettingsFrom({ seedFile: 'x', nearDup: bad })).toThrow(
        /--near-dup .*: give a similarity threshold in \(0, 1\], e.g. 0.8, or off/,
      );
    }
  });

  it('parses --chain-bins and refuses inverted or out-of-range bins', () => {
    expect(parseChainBinsSpec('hard=0.1-0.2')).toEqual({ ...PAPER_CHAIN_BINS, hard: [0.1, 0.2] });
    expect(() => parseChainBinsSpec('hard=0.3-0.2')).toThrow(/hard bin must be \[low, high\]/);
    expect(() => parseChainBinsSpec('tricky=0.1-0.2')).toThrow(/--chain-bins tricky=0.1-0.2: write level=low-high/);
  });

  it('reads an old record with the values that were then built in, and refuses a damaged one', () => {
    const old = {
      env: 'induction',
      mode: 'multi',
      turns: 3,
      attempts: 8,
      teacherModel: 'sim-teacher',
      studentModel: 'sim-student',
      seedFile: '/s',
      visiblePairs: 3,
      timeLimitMs: 2000,
    };
    const s = parseBatchSettings(old, 'b1');
    expect(s).toMatchObject({ turns: 3, attempts: 8, timeSlack: 10, dedup: 'global', visiblePairs: 3, chainBins: PAPER_CHAIN_BINS });
    expect(s).not.toHaveProperty('teacherModel');
    expect(s.nearDup).toBe('off'); // recorded before near-duplicates existed
    expect(parseBatchSettings({ ...old, nearDup: 0.75 }, 'b1').nearDup).toBe(0.75);
    expect(() => parseBatchSettings({ ...old, attempts: 'eight' }, 'b1')).toThrow(/attempts is "eight", not a number/);
    expect(() => parseBatchSettings({ ...old, attempts: 0 }, 'b1')).toThrow(/batch b1: its recorded settings are invalid \(--attempts 0/);
    expect(() => parseBatchSettings(null, 'b2')).toThrow(/batch b2: its recorded settings are not an object/);
    const mixed = parseBatchSettings({ ...old, envWeights: { deduction: 1, induction: 2 } }, 'b3');
    expect(mixed.envWeights).toEqual({ deduction: 1, induction: 2 });
    expect(() => parseBatchSettings({ ...old, envWeights: { poetry: 1 } }, 'b4')).toThrow(/unknown environment "poetry"/);
  });

  it('derives the workflow input from the record (chain bins only in chain mode)', () => {
    const chain = batchSettingsFrom({ seedFile: 'x', mode: 'chain', chainBins: parseChainBinsSpec('hard=0.1-0.2') });
    expect(batchWorkflowInputFrom('b', chain, { window: 5 })).toEqual({
      batchId: 'b',
      env: 'induction',
      mode: 'chain',
      chainBins: chain.chainBins,
      turns: 4,
      attempts: 8,
      window: 5,
    });
    expect(batchWorkflowInputFrom('b', batchSettingsFrom({ seedFile: 'x' }), { window: 5, paused: true })).not.toHaveProperty('chainBins');
  });
});

describe('prompts render the method module', () => {
  it("asks for the target band and the batch's own chain bins, never hard-coded numbers", () => {
    expect(percentRange(TARGET_BAND)).toBe('35-65%');
    expect(instructionText('harder', 0.9)).toContain('35-65%');
    const bins = parseChainBinsSpec('hard=0.1-0.2,medium=0.45-0.55,easy=0.8-0.9');
    expect(instructionText('chain_hard', null, 'induction', bins)).toContain('10-20%');
    expect(instructionText('chain_harder', 0.5, 'induction', bins)).toContain('10-20%');
    expect(instructionText('chain_medium', 0.15, 'induction', bins)).toContain('45-55%');
    expect(instructionText('chain_easy', 0.5, 'induction', bins)).toContain('80-90%');
    expect(instructionText('chain_hard', null)).toContain('5-16%'); // the paper's by default
  });
});
