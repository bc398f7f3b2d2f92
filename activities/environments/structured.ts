/**
 * Structured-output mode for the teacher (CAIRN_TEACHER_STRUCTURED=json_schema): the problem is
 * asked for as a JSON object under a JSON schema, which servers enforce while decoding (llama.cpp
 * turns it into a grammar; vLLM and SGLang guided decoding; OpenAI structured outputs), so a weak
 * teacher still answers in a parseable shape. The answer is turned back into the fenced blocks
 * (lenient.ts structuredToBlocks) and checked by the environment's usual rules.
 */
import type { EnvName } from '../../workflows/contracts';
import type { ChatMessage } from './environment';
import { MAX_EXAMPLE_INPUTS } from './fuzzing';
import { INPUTS_PER_PROBLEM } from './induction';

export type StructuredMode = 'off' | 'json_schema';

const SHAPE: Record<EnvName, { min: number; max: number; message: boolean; code: string }> = {
  induction: { min: INPUTS_PER_PROBLEM, max: INPUTS_PER_PROBLEM, message: true, code: 'the python code defining `f`' },
  abduction: { min: 1, max: 1, message: false, code: 'the python code defining `f`' },
  deduction: { min: 1, max: 1, message: false, code: 'the python code defining `f`' },
  fuzzing: { min: 1, max: MAX_EXAMPLE_INPUTS, message: false, code: 'the python code defining `f`, `pre_test_f` and `test_f`' },
};

/** The JSON schema of an environment's problem. */
export function problemSchema(env: EnvName): Record<string, unknown> {
  const s = SHAPE[env];
  const properties: Record<string, unknown> = {
    code: { type: 'string', description: s.code },
    inputs: { type: 'array', items: { type: 'string' }, minItems: s.min, maxItems: s.max, description: 'Python-literal argument lists' },
  };
  if (s.message) properties.message = { type: 'string', description: 'the hint for the student (never the code)' };
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** The request's `response_format` (OpenAI's shape, which vLLM, SGLang and llama.cpp's server accept too). */
export function responseFormat(env: EnvName): Record<string, unknown> {
  return { type: 'json_schema', json_schema: { name: `${env}_problem`, strict: true, schema: problemSchema(env) } };
}

/** The teacher's messages with the output format restated as JSON (the last user message gets a note). */
export function structuredMessages(env: EnvName, messages: ChatMessage[]): ChatMessage[] {
  const s = SHAPE[env];
  const fields = [
    '"code": ' + s.code,
    `"inputs": ${s.min === s.max ? s.min : `${s.min} to ${s.max}`} strings, each a Python-literal argument list`,
    ...(s.message ? ['"message": the hint'] : []),
  ];
  const note = `\n\n## Answer as JSON\nAnswer with one JSON object instead of fenced blocks, with the fields ${fields.join('; ')}.`;
  const last = messages.length - 1;
  return messages.map((m, i) => (i === last && m.role === 'user' ? { ...m, content: m.content + note } : m));
}
