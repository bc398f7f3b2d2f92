/** Family: group (name, value) rows into a dict, score the groups, rank or filter them. */
import { phrases, Phrase, Scanner, tryParse, num } from '../phrase';
import { py, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Bugs, type Family } from './family';

type KeyKind = 'name' | 'lower' | 'initial';
type AggKind = 'sum' | 'count' | 'max' | 'distinct' | 'spread';
type OutKind = 'dict' | 'best' | 'ranked' | 'top';

export interface GroupParams {
  key: KeyKind;
  skipNeg: boolean;
  agg: AggKind;
  /** Minimum score to keep a group; null keeps all. */
  min: number | null;
  out: OutKind;
  /** How many keys for 'top'; 0 otherwise. */
  m: number;
}

const KEY_W: Record<KeyKind, number> = { name: 0, lower: 0.6, initial: 1 };
const AGG_W: Record<AggKind, number> = { sum: 0, count: 0.3, max: 0.6, distinct: 1, spread: 1.4 };
const OUT_W: Record<OutKind, number> = { dict: 0, best: 1, ranked: 1.4, top: 1.8 };

const KEYS = phrases<KeyKind>({
  name: 'the name',
  lower: 'the name lowercased',
  initial: 'the lowercased first letter of the name',
});
const AGGS = phrases<AggKind>({
  sum: 'the sum of its values',
  count: 'how many rows it has',
  max: 'its largest value',
  distinct: 'how many distinct values it has',
  spread: 'the spread of its values (largest minus smallest)',
});
const OUTS = phrases<OutKind>({
  dict: 'return a dict from key to score, sorted by key',
  best: 'return the key with the highest score (ties: alphabetically first), or None if there is none',
  ranked: 'return the keys ordered by score, highest first (ties alphabetical)',
  top: 'return the {m} keys with the highest scores, highest first (ties alphabetical)',
});
const SKIP = new Phrase(', ignoring rows with a negative value');
const MIN = new Phrase('; keep only groups scoring at least {t}');

const AGG_EXPR: Record<AggKind, string> = {
  sum: 'sum(vals)',
  count: 'len(vals)',
  max: 'max(vals)',
  distinct: 'len(set(vals))',
  spread: 'max(vals) - min(vals)',
};

function keyExpr(p: GroupParams, bug: Bugs): string {
  if (p.key === 'name') return 'name';
  if (p.key === 'lower') return bug.has('case') ? 'name' : 'name.lower()';
  return bug.has('case') ? 'name[:1]' : 'name[:1].lower()';
}

function outLines(p: GroupParams, bug: Bugs): string[] {
  const order = bug.has('ties')
    ? 'sorted(scores, key=lambda k: (scores[k], k), reverse=True)'
    : 'sorted(scores, key=lambda k: (-scores[k], k))';
  switch (p.out) {
    case 'dict':
      return ['    return dict(sorted(scores.items()))'];
    case 'best':
      return [
        '    if not scores:',
        '        return None',
        bug.has('ties') ? '    return max(scores, key=scores.get)' : '    return min(scores, key=lambda k: (-scores[k], k))',
      ];
    case 'ranked':
      return [`    return ${order}`];
    case 'top':
      return [`    return ${order}[:${bug.has('off1') ? p.m + 1 : p.m}]`];
  }
}

/** Rows that give group 'Kim' a score of exactly t, so the threshold's boundary is tested. */
function boundaryRows(p: GroupParams, t: number): Array<[string, number]> {
  switch (p.agg) {
    case 'sum':
    case 'max':
      return [['Kim', t]];
    case 'count':
      return Array.from({ length: t }, () => ['Kim', 1] as [string, number]);
    case 'distinct':
      return Array.from({ length: t }, (_x, i) => ['Kim', i + 1] as [string, number]);
    case 'spread':
      return [
        ['Kim', 1],
        ['Kim', 1 + t],
      ];
  }
}

const NAMES = ['Ann', 'ann', 'Bob', 'bob', 'Bea', 'Cy', 'cy', 'Dan', 'Eve', 'eve'];

export const groupAggregate: Family<GroupParams> = {
  id: 'group_aggregate',
  blurb: 'groups records by a key in a dict and ranks the groups by an aggregate',

  sample(rng: Rng): GroupParams {
    const agg = rng.pick<AggKind>(['sum', 'count', 'max', 'distinct', 'spread']);
    const out = rng.pick<OutKind>(['dict', 'best', 'ranked', 'top']);
    const small = agg === 'count' || agg === 'distinct';
    return {
      key: rng.pick<KeyKind>(['name', 'lower', 'initial']),
      skipNeg: rng.chance(0.5),
      agg,
      min: rng.chance(0.5) ? (small ? rng.int(2, 3) : rng.int(3, 12)) : null,
      out,
      m: out === 'top' ? rng.int(2, 3) : 0,
    };
  },

  difficulty(p) {
    const raw = KEY_W[p.key] + (p.skipNeg ? 1 : 0) + AGG_W[p.agg] + (p.min !== null ? 0.8 : 0) + OUT_W[p.out];
    return normalise(raw, 0, 6);
  },

  code(p, bug = NO_BUGS) {
    const cmp = bug.has('cmp') ? '>' : '>=';
    return src(
      'def f(rows):',
      '    groups = {}',
      '    for name, value in rows:',
      p.skipNeg && !bug.has('neg') && ['        if value < 0:', '            continue'],
      `        groups.setdefault(${keyExpr(p, bug)}, []).append(value)`,
      `    scores = {key: ${AGG_EXPR[p.agg]} for key, vals in groups.items()}`,
      p.min !== null && `    scores = {key: s for key, s in scores.items() if s ${cmp} ${p.min}}`,
      outLines(p, bug),
    );
  },

  bugs(p) {
    const out: string[] = [];
    if (p.skipNeg) out.push('neg');
    if (p.key !== 'name') out.push('case');
    if (p.min !== null) out.push('cmp');
    if (p.out !== 'dict') out.push('ties');
    if (p.out === 'top') out.push('off1');
    return out;
  },

  message(p) {
    return sentence(
      'group the [name, value] rows by ' +
        KEYS[p.key].write() +
        (p.skipNeg ? SKIP.write() : '') +
        '; score each group by ' +
        AGGS[p.agg].write() +
        (p.min !== null ? MIN.write({ t: p.min }) : '') +
        '; ' +
        OUTS[p.out].write({ m: p.m }) +
        '.',
    );
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      s.lit('group the [name, value] rows by ');
      const [key] = s.choose(KEYS);
      const skipNeg = s.maybe(SKIP) !== null;
      s.lit('; score each group by ');
      const [agg] = s.choose(AGGS);
      const mv = s.maybe(MIN);
      s.lit('; ');
      const [out, ov] = s.choose(OUTS);
      s.lit('.');
      s.done();
      return { key, skipNeg, agg, min: mv ? num(mv, 't') : null, out, m: out === 'top' ? num(ov, 'm') : 0 };
    });
  },

  edgeInputs(p, rng) {
    const rows = (r: Array<[string, number]>): Args => [py(r)];
    const t = p.min ?? 3;
    return [
      rows([]),
      rows(
        rng.shuffle<[string, number]>([
          ['ann', 3],
          ['Ann', 4],
          ['bob', 7],
          ['Bob', -2],
          ['Cy', 7],
        ]),
      ),
      rows(rng.shuffle<[string, number]>([...boundaryRows(p, t), ['Dan', -4], ['dan', 9], ['Al', t - 1]])),
      rows([
        ['Zed', 5],
        ['Amy', 5],
        ['zed', 5],
        ['amy', -1],
      ]),
    ];
  },

  randomInput(_p, rng) {
    return [py(Array.from({ length: rng.int(2, 8) }, () => [rng.pick(NAMES), rng.int(-3, 12)]))];
  },
};
