import { fence, parseBlocks, stripReasoning, truncate } from '../../activities/environments/blocks';

describe('fenced-block parser', () => {
  it('reads blocks in order with their language', () => {
    const t = 'intro\n```python\ndef f(x):\n    return x\n```\ntext\n```input\n[1, 2]\n```\n```message\nhint\n```';
    expect(parseBlocks(t)).toEqual([
      { lang: 'python', body: 'def f(x):\n    return x' },
      { lang: 'input', body: '[1, 2]' },
      { lang: 'message', body: 'hint' },
    ]);
  });

  it('ignores an unclosed block and keeps inner backticks of a longer fence', () => {
    expect(parseBlocks('```python\nx = 1\n')).toEqual([]);
    expect(parseBlocks('````message\nuse ```code``` here\n````')).toEqual([{ lang: 'message', body: 'use ```code``` here' }]);
  });

  it('fence() round-trips through parseBlocks even with backticks in the body', () => {
    const body = 'a\n```\nb';
    expect(parseBlocks(fence('message', body))).toEqual([{ lang: 'message', body }]);
  });

  it('drops reasoning: <think> blocks, an unclosed <think>, and keeps <answer> only', () => {
    expect(stripReasoning('<think>```python\nbad\n```</think>ok')).toBe('ok');
    expect(stripReasoning('answer first <think>never closed ```python')).toBe('answer first ');
    expect(stripReasoning('<think>x</think><answer>inside</answer> after')).toBe('inside');
  });

  it('truncates with a note of what was cut', () => {
    expect(truncate('abcdef', 3)).toBe('abc\n... [3 more characters]');
    expect(truncate('abc', 3)).toBe('abc');
  });
});
