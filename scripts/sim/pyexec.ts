/**
 * Running the simulator's OWN Python (family code it rebuilt from a prompt, never code taken from
 * a prompt) to work out values, as a model would by reasoning: what f returns on an input, which
 * candidate inputs give an output, where a flawed f and its reference disagree, what types the
 * inputs have. One `python3 -I -S` process per batch of operations; results are cached, and they
 * are a pure function of the operation, so answers stay deterministic.
 *
 * Values come back in the canonical form of Cairn's sandbox driver (exact builtin types, sorted
 * dict keys and set items), so they compare as strings with outputs shown in Cairn's prompts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export type PyOp =
  /** f(*args) in canonical form; `perturb` / `slip` apply those changes to the returned value. */
  | { op: 'call'; code: string; entry: string; args: string; perturb?: number; slip?: boolean }
  | { op: 'canon'; literal: string }
  /** The canonical value after a small plausible slip (k picks which). */
  | { op: 'perturb'; literal: string; k: number }
  /** A "type slip": the value with a container or number type swapped (list <-> tuple, int -> float). */
  | { op: 'slip'; literal: string }
  /** The shape of each argument over these argument lists (JSON, see `Shape`). */
  | { op: 'schema'; inputs: string[] };

export type PyResult = { ok: true; out: string } | { ok: false; error: string };

/** The shape of one argument, inferred from example values. */
export type Shape =
  | { t: 'int'; lo: number; hi: number }
  | { t: 'str'; max: number }
  | { t: 'bool' }
  | { t: 'none' }
  /** `items`: positional shapes when every example list has the same short length (a record). */
  | { t: 'list'; of: Shape | null; max: number; items?: Shape[] | null }
  | { t: 'tuple'; items: Shape[] }
  | { t: 'dict'; k: Shape | null; v: Shape | null; max: number }
  | { t: 'any' };

const HARNESS = String.raw`
import ast, json, signal, sys

class Timeout(BaseException):
    pass

def _alarm(*_):
    raise Timeout()

signal.signal(signal.SIGALRM, _alarm)

def canon(v, d=0):
    if d > 200:
        raise ValueError('nested too deeply')
    t = type(v)
    if v is None:
        return 'None'
    if t is bool:
        return 'True' if v else 'False'
    if t is int:
        return int.__repr__(v)
    if t is float:
        if v != v:
            return "float('nan')"
        if v in (float('inf'), float('-inf')):
            return "float('%s')" % float.__repr__(v)
        return float.__repr__(v)
    if t is str:
        return str.__repr__(v)
    if t is bytes:
        return bytes.__repr__(v)
    if t is list:
        return '[' + ', '.join([canon(x, d + 1) for x in v]) + ']'
    if t is tuple:
        items = [canon(x, d + 1) for x in v]
        return '(' + items[0] + ',)' if len(items) == 1 else '(' + ', '.join(items) + ')'
    if t is dict:
        pairs = sorted([(canon(k, d + 1), canon(x, d + 1)) for k, x in v.items()])
        return '{' + ', '.join([k + ': ' + x for k, x in pairs]) + '}'
    if t is set or t is frozenset:
        items = sorted([canon(x, d + 1) for x in v])
        if t is set:
            return '{' + ', '.join(items) + '}' if items else 'set()'
        return 'frozenset({' + ', '.join(items) + '})' if items else 'frozenset()'
    raise TypeError('unsupported type ' + t.__name__)

def perturb(v, k):
    t = type(v)
    if t is bool:
        return not v
    if t is int:
        return v + (1 if k % 2 == 0 else -1)
    if t is float:
        return v + 1.0
    if t is str:
        return v[:-1] if v and k % 2 == 0 else v + v[-1:] if v else ' '
    if v is None:
        return 0
    if t in (list, tuple):
        if not v:
            return t([0])
        if k % 3 == 2 and len(v) > 1:
            return v[:-1]
        i = k % len(v)
        out = list(v)
        out[i] = perturb(out[i], k // 2)
        return t(out)
    if t is dict:
        if not v:
            return {0: 0}
        keys = sorted(v, key=repr)
        key = keys[k % len(keys)]
        out = dict(v)
        out[key] = perturb(out[key], k // 2)
        return out
    return v

def slip(v):
    t = type(v)
    if t is list:
        return tuple(v)
    if t is tuple:
        return list(v)
    if t is int:
        return float(v)
    if t is bool:
        return int(v)
    if t is str:
        return [v]
    return str(v)

def shape(v):
    t = type(v)
    if t is bool:
        return {'t': 'bool'}
    if t is int:
        return {'t': 'int', 'lo': v, 'hi': v}
    if t is str:
        return {'t': 'str', 'max': len(v)}
    if v is None:
        return {'t': 'none'}
    if t is list:
        items = [shape(x) for x in v] if 0 < len(v) <= 4 else None
        return {'t': 'list', 'of': merge_all([shape(x) for x in v]), 'max': len(v), 'items': items}
    if t is tuple:
        return {'t': 'tuple', 'items': [shape(x) for x in v]}
    if t is dict:
        return {'t': 'dict', 'k': merge_all([shape(x) for x in v]), 'v': merge_all([shape(x) for x in v.values()]), 'max': len(v)}
    return {'t': 'any'}

def merge_all(shapes):
    out = None
    for s in shapes:
        out = s if out is None else merge(out, s)
    return out

def merge(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a['t'] != b['t']:
        return {'t': 'any'}
    t = a['t']
    if t == 'int':
        return {'t': 'int', 'lo': min(a['lo'], b['lo']), 'hi': max(a['hi'], b['hi'])}
    if t == 'str':
        return {'t': 'str', 'max': max(a['max'], b['max'])}
    if t == 'list':
        ia, ib = a.get('items'), b.get('items')
        items = [merge(x, y) for x, y in zip(ia, ib)] if ia and ib and len(ia) == len(ib) else None
        return {'t': 'list', 'of': merge(a['of'], b['of']), 'max': max(a['max'], b['max']), 'items': items}
    if t == 'tuple':
        if len(a['items']) != len(b['items']):
            return {'t': 'any'}
        return {'t': 'tuple', 'items': [merge(x, y) for x, y in zip(a['items'], b['items'])]}
    if t == 'dict':
        return {'t': 'dict', 'k': merge(a['k'], b['k']), 'v': merge(a['v'], b['v']), 'max': max(a['max'], b['max'])}
    return a

def args_of(text):
    return ast.literal_eval('(' + text + ',)') if text.strip() else ()

modules = {}

def load(code):
    if code not in modules:
        ns = {'__name__': 'sim'}
        try:
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            try:
                exec(compile(code, 'sim', 'exec'), ns)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            modules[code] = (ns, None)
        except (Exception, Timeout) as e:
            modules[code] = (None, type(e).__name__)
    return modules[code]

def run(op):
    kind = op['op']
    if kind == 'call':
        ns, err = load(op['code'])
        if ns is None:
            return {'ok': False, 'error': 'load: ' + err}
        fn = ns.get(op['entry'])
        args = args_of(op['args'])
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        try:
            value = fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if op.get('perturb') is not None:
            value = perturb(value, op['perturb'])
        if op.get('slip'):
            value = slip(value)
        return {'ok': True, 'out': canon(value)}
    if kind == 'canon':
        return {'ok': True, 'out': canon(ast.literal_eval(op['literal']))}
    if kind == 'perturb':
        return {'ok': True, 'out': canon(perturb(ast.literal_eval(op['literal']), op['k']))}
    if kind == 'slip':
        return {'ok': True, 'out': canon(slip(ast.literal_eval(op['literal'])))}
    if kind == 'schema':
        per = None
        for text in op['inputs']:
            s = [shape(a) for a in args_of(text)]
            if per is None:
                per = s
            elif len(per) != len(s):
                return {'ok': False, 'error': 'arity differs'}
            else:
                per = [merge(x, y) for x, y in zip(per, s)]
        return {'ok': True, 'out': json.dumps(per or [])}
    return {'ok': False, 'error': 'unknown op'}

def main():
    ops = json.load(sys.stdin)
    out = []
    for op in ops:
        try:
            out.append(run(op))
        except Timeout:
            out.append({'ok': False, 'error': 'Timeout'})
        except BaseException as e:
            out.append({'ok': False, 'error': '%s: %s' % (type(e).__name__, str(e)[:200])})
    sys.stdout.write(json.dumps(out))

main()
`;

function python(): string {
  for (const p of ['/usr/bin/python3', '/usr/local/bin/python3']) if (fs.existsSync(p)) return p;
  return 'python3';
}

const PYTHON = python();
const cache = new Map<string, PyResult>();
const CACHE_MAX = 50_000;

function spawnBatch(ops: PyOp[]): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-I', '-S', '-c', HARNESS], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`the simulator needs python3 to work out values: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`simulator python exited ${code}: ${Buffer.concat(err).toString().slice(-500)}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString()) as PyResult[]);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.stdin.end(JSON.stringify(ops));
  });
}

/** Runs the operations (one process for the uncached ones) and returns one result per operation. */
export async function pyRun(ops: readonly PyOp[]): Promise<PyResult[]> {
  const keys = ops.map((o) => JSON.stringify(o));
  const todo: number[] = [];
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (!cache.has(k) && !seen.has(k)) {
      seen.add(k);
      todo.push(i);
    }
  });
  if (todo.length > 0) {
    const res = await spawnBatch(todo.map((i) => ops[i] as PyOp));
    if (cache.size + todo.length > CACHE_MAX) cache.clear();
    todo.forEach((i, j) => cache.set(keys[i] as string, res[j] ?? { ok: false, error: 'no result' }));
  }
  return keys.map((k) => cache.get(k) ?? { ok: false, error: 'no result' });
}

/** The output string of a result, or null when it failed. */
export function outOf(r: PyResult | undefined): string | null {
  return r && r.ok ? r.out : null;
}
