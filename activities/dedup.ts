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
}

const SCRIPT = path.join(__dirname, 'dedup.py');

/** Both keys, or null when the code does not tokenize/parse (validation reports that itself). */
export function dedupKeys(code: string): Promise<DedupKeys | null> {
  return new Promise((resolve) => {
    const child = execFile('/usr/bin/python3', ['-I', '-S', SCRIPT], { timeout: 10_000, maxBuffer: 1 << 16 }, (err, stdout) => {
      const m = /^([0-9a-f]{64}) ([0-9a-f]{64})\s*$/.exec(stdout);
      resolve(err || !m ? null : { codeHash: m[1] as string, astHash: m[2] as string });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(code);
  });
}
