/**
 * The contract every problem family implements, and the generic helpers built on it.
 *
 * A family is a parametric Python function. Its parameters decide the latent difficulty d in
 * [0, 1] (more composed steps, more edge cases, stateful logic => higher d). The teacher picks
 * parameters to hit a target d; the student recovers them from the hint and solves with a
 * probability that depends on d. Nothing else carries difficulty, so it has to travel through
 * the problem text, exactly like with a real LLM.
 */
import type { Rng } from '../rng';

/** One input: the Python literals of the arguments, e.g. ['[1, 2]', '3']. */
export type Args = string[];

/** Mutation ids applied together (a failing student often gets several things wrong at once). */
export type Bugs = ReadonlySet<string>;
export const NO_BUGS: Bugs = new Set<string>();

export interface Family<P> {
  /** Stable id, e.g. 'list_pipeline'. */
  readonly id: string;
  /** What the function does, in a few words (teacher prose). */
  readonly blurb: string;
  /** A uniform-ish draw over the whole parameter space (all difficulties). */
  sample(rng: Rng): P;
  /** Latent difficulty of these parameters, in [0, 1]. */
  difficulty(p: P): number;
  /** Correct Python source defining `f`, or a plausible wrong variant with the given mutations. */
  code(p: P, bugs?: Bugs): string;
  /** The mutation ids that make sense for these parameters (may be empty). */
  bugs(p: P): readonly string[];
  /** The hint, stating every parameter in words. */
  message(p: P): string;
  /** Reads a hint written by `message` back into parameters; null if it is not this family's. */
  parse(message: string): P | null;
  /** Inputs that exercise the edge cases of these parameters (boundaries, empties, ties). */
  edgeInputs(p: P, rng: Rng): Args[];
  /** One ordinary random input. */
  randomInput(p: P, rng: Rng): Args;
}

/** The registry's view: method parameters are bivariant, so any Family<P> fits. */
export type AnyFamily = Family<unknown>;

/** Normalises a weighted sum of difficulty contributions to [0, 1]. */
export function normalise(raw: number, min: number, max: number): number {
  return Math.min(1, Math.max(0, (raw - min) / (max - min)));
}

/** Fraction of top-level fields that differ (JSON comparison): how far a variant moved. */
function distance(a: unknown, b: unknown): number {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return 1;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  let diff = 0;
  for (const k of keys) if (JSON.stringify(ra[k]) !== JSON.stringify(rb[k])) diff++;
  return keys.size === 0 ? 0 : diff / keys.size;
}

/**
 * Parameters whose difficulty is closest to `target`, by rejection over random draws. With a
 * previous problem it prefers variants that keep more of it (a refinement, not a new problem).
 */
export function paramsForDifficulty<P>(fam: Family<P>, target: number, rng: Rng, prev?: P): P {
  let best: P | null = null;
  let bestCost = Infinity;
  for (let i = 0; i < 64; i++) {
    const cand = fam.sample(rng);
    let cost = Math.abs(fam.difficulty(cand) - target) + rng.next() * 0.01;
    if (prev !== undefined) cost += 0.04 * distance(cand, prev);
    if (cost < bestCost) {
      best = cand;
      bestCost = cost;
    }
  }
  return best as P;
}

/**
 * Five (or `count`) distinct inputs. Thorough inputs mix the family's edge cases with random ones;
 * lazy inputs are random only, which is how weak tests (p = 1 for wrong code) arise.
 */
export function writeInputs<P>(fam: Family<P>, p: P, rng: Rng, thorough: boolean, count = 5): Args[] {
  const seen = new Set<string>();
  const out: Args[] = [];
  const add = (a: Args): void => {
    const s = a.join(', ');
    if (!seen.has(s) && out.length < count) {
      seen.add(s);
      out.push(a);
    }
  };
  // Four edge cases and one ordinary input: most plausible mistakes show on at least one.
  if (thorough) for (const e of rng.sample(fam.edgeInputs(p, rng), 4)) add(e);
  for (let tries = 0; out.length < count && tries < 200; tries++) add(fam.randomInput(p, rng));
  return rng.shuffle(out);
}
