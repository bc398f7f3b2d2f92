/**
 * Dedup before spending student compute (method.md: normalized-code hash, then AST-normalized
 * hash). The hashing parses the code with Python's own tokenizer and ast (no execution) in a
 * short-lived isolated interpreter.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface DedupKeys {
  codeHash: string;
  astHash: string;
  /** MinHash signature of the normalized token 4-grams (dedup.py): NUM_PERM values. */
  minhash: number[];
  /** LSH band keys of the signature ("band:values"): near-copies share at least one. */
  lshBands: string[];
}

/** 128 = 32 bands x 4 rows: a pair at Jaccard 0.8 shares a band with probability 1 - (1 - 0.8^4)^32 > 0.9999; at 0.5, 0.87; at 0.3, 0.23. */
export const NUM_PERM = 128;
export const LSH_ROWS = 4;

/** The band keys of a signature: candidates for a near-duplicate share one (then the signature decides). */
export function lshBands(sig: number[]): string[] {
  const out: string[] = [];
  for (let b = 0; b * LSH_ROWS < sig.length; b++) out.push(`${b}:${sig.slice(b * LSH_ROWS, (b + 1) * LSH_ROWS).join('.')}`);
  return out;
}

const SCRIPT = path.join(__dirname, 'dedup.py');

/** Both keys, or null when the code does not tokenize/parse (validation reports that itself). */
export function dedupKeys(code: string): Promise<DedupKeys | null> {
  return new Promise((resolve) => {
    const child = execFile('/usr/bin/python3', ['-I', '-S', SCRIPT], { timeout: 10_000, maxBuffer: 1 << 16 }, (err, stdout) => {
      const m = /^([0-9a-f]{64}) ([0-9a-f]{64}) ([0-9,]+)\s*$/.exec(stdout);
      const sig = m ? (m[3] as string).split(',').map(Number) : [];
      resolve(
        err || !m || sig.length !== NUM_PERM
          ? null
          : { codeHash: m[1] as string, astHash: m[2] as string, minhash: sig, lshBands: lshBands(sig) },
      );
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(code);
  });
}
