/**
 * Transport faults: one seeded stream advanced once per arriving request, separate from answer
 * content. A retry is a new arrival, so it draws afresh and can succeed, while its content (a
 * function of the request only) stays the same.
 */
import { Rng } from './rng';
import type { SimSettings } from './settings';

export type Role = 'teacher' | 'student';

export type FaultDecision =
  | { kind: 'reset' }
  | { kind: 'rate_limit' }
  | { kind: 'server_error'; status: 500 | 502 | 503 }
  | { kind: 'ok'; latencyMs: number; nullChoice: (i: number, rate: number) => boolean };

export class FaultStream {
  private rng: Rng;

  constructor(seed: number) {
    this.rng = Rng.from('faults', seed);
  }

  /** Restarts the stream (after the seed setting changes). */
  reseed(seed: number): void {
    this.rng = Rng.from('faults', seed);
  }

  /** Always draws the same count of numbers, so the stream never depends on earlier outcomes. */
  next(s: Readonly<SimSettings>, role: Role | null): FaultDecision {
    const uReset = this.rng.next();
    const u429 = this.rng.next();
    const u5xx = this.rng.next();
    const uKind = this.rng.next();
    const uLat = this.rng.next();
    if (uReset < s.resetRate) return { kind: 'reset' };
    if (u429 < s.rate429) return { kind: 'rate_limit' };
    if (u5xx < s.rate5xx) return { kind: 'server_error', status: uKind < 0.5 ? 500 : uKind < 0.75 ? 502 : 503 };
    const mean = role === 'teacher' ? s.teacherLatencyMs : role === 'student' ? s.studentLatencyMs : 0;
    // Mean-preserving jitter with a floor: half fixed, half exponential.
    // Null content per choice: from this arrival's draws (a retry draws afresh), spread over the choices.
    // uKind is free on this path, so the stream keeps its draw count and every other fault stays where it was.
    const nullChoice = (i: number, rate: number): boolean => rate > 0 && (uKind + i * 0.618033988749895) % 1 < rate;
    return { kind: 'ok', latencyMs: mean * (0.5 - 0.5 * Math.log(1 - uLat)), nullChoice };
  }
}
