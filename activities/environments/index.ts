import type { EnvName } from '../../workflows/contracts';
import { abduction } from './abduction';
import { deduction } from './deduction';
import { fuzzing } from './fuzzing';
import { induction } from './induction';
import type { Environment } from './environment';

const ENVIRONMENTS: Record<EnvName, Environment> = { induction, abduction, deduction, fuzzing };

export function environment(name: string): Environment {
  const env = (ENVIRONMENTS as Record<string, Environment | undefined>)[name];
  if (!env) throw new Error(`unknown environment ${name}; known: ${Object.keys(ENVIRONMENTS).join(', ')}`);
  return env;
}

export type { Environment } from './environment';
