/** Family: filter, map and reduce a list of integers. */
import { phrases, Scanner, tryParse, num, check } from '../phrase';
import { py, plus, src, sentence } from '../pyfmt';
import type { Rng } from '../rng';
import { normalise, NO_BUGS, type Args, type Bugs, type Family } from './family';

type FilterKind = 'all' | 'even' | 'odd' | 'div' | 'gt' | 'range';
type MapKind = 'same' | 'square' | 'affine' | 'absmod' | 'collatz';
type ReduceKind = 'sum' | 'distinct' | 'max' | 'top' | 'alt';

/** Unused numbers are 0 so that parse(message(p)) deep-equals p. */
export interface ListParams {
  filter: FilterKind;
  k: number; // divisor, or threshold t, or range low
  hi: number; // range high
  map: MapKind;
  c: number; // affine factor, or modulus
  b: number; // affine offset
  reduce: ReduceKind;
  m: number; // top-m count, or max sentinel
}

const FILTER_W: Record<FilterKind, number> = { all: 0, even: 0.7, odd: 0.7, div: 1.2, gt: 1.2, range: 2 };
const MAP_W: Record<MapKind, number> = { same: 0, square: 0.6, affine: 1.2, absmod: 1.6, collatz: 2 };
const REDUCE_W: Record<ReduceKind, number> = { sum: 0, distinct: 0.8, max: 1, top: 1.6, alt: 2.2 };

const FILTERS = phrases<FilterKind>({
  all: 'take all the values',
  even: 'keep the even values',
  odd: 'keep the odd values',
  div: 'keep the values divisible by {k}',
  gt: 'keep the values greater than {k}',
  range: 'keep the values from {k} to {hi} inclusive',
});
const MAPS = phrases<MapKind>({
  same: 'leave them unchanged',
  square: 'square each one',
  affine: 'multiply each by {c} then add {b}',
  absmod: 'replace each by its absolute value modulo {c}',
  collatz: 'halve the even ones and send each odd v to 3v+1',
});
const REDUCES = phrases<ReduceKind>({
  sum: 'return their sum',
  distinct: 'return how many distinct results there are',
  max: 'return the largest result, or {m} if nothing is left',
  top: 'return the sum of the {m} largest results',
  alt: 'sort the results ascending and return the alternating sum (first minus second plus third and so on)',
});

function filterExpr(p: ListParams, bug: Bugs): string | null {
  switch (p.filter) {
    case 'all':
      return null;
    case 'even':
      return bug.has('parity') ? 'x % 2 == 1' : 'x % 2 == 0';
    case 'odd':
      return bug.has('parity') ? 'x % 2 == 0' : 'x % 2 == 1';
    case 'div':
      return bug.has('div_mod') ? `x % ${p.k} != 0` : `x % ${p.k} == 0`;
    case 'gt':
      return bug.has('cmp') ? `x >= ${p.k}` : `x > ${p.k}`;
    case 'range':
      return bug.has('cmp') ? `${p.k} <= x < ${p.hi}` : `${p.k} <= x <= ${p.hi}`;
  }
}

function mapExpr(p: ListParams, bug: Bugs): string | null {
  switch (p.map) {
    case 'same':
      return null;
    case 'square':
      return bug.has('map') ? 'x * 2' : 'x * x';
    case 'affine':
      return bug.has('map') ? `${p.c} * (${plus('x', p.b)})` : plus(`${p.c} * x`, p.b);
    case 'absmod':
      return bug.has('map') ? `x % ${p.c}` : `abs(x) % ${p.c}`;
    case 'collatz':
      return bug.has('map') ? 'x / 2 if x % 2 == 0 else 3 * x + 1' : 'x // 2 if x % 2 == 0 else 3 * x + 1';
  }
}

function reduceLines(p: ListParams, bug: Bugs): string[] {
  switch (p.reduce) {
    case 'sum':
      return ['    return sum(vals)'];
    case 'distinct':
      return [bug.has('reduce') ? '    return len(vals)' : '    return len(set(vals))'];
    case 'max':
      return bug.has('reduce') ? ['    return max(vals)'] : ['    if not vals:', `        return ${p.m}`, '    return max(vals)'];
    case 'top':
      return bug.has('reduce')
        ? [`    return sum(sorted(vals)[:${p.m}])`]
        : [`    return sum(sorted(vals, reverse=True)[:${bug.has('off1') ? p.m + 1 : p.m}])`];
    case 'alt':
      return [
        '    ordered = sorted(vals)',
        `    return sum(v if i % 2 == ${bug.has('reduce') ? 1 : 0} else -v for i, v in enumerate(ordered))`,
      ];
  }
}

export const listPipeline: Family<ListParams> = {
  id: 'list_pipeline',
  blurb: 'filters a list of integers, transforms the survivors and reduces them',

  sample(rng: Rng): ListParams {
    const filter = rng.pick<FilterKind>(['all', 'even', 'odd', 'div', 'gt', 'range']);
    const map = rng.pick<MapKind>(['same', 'square', 'affine', 'absmod', 'collatz']);
    const reduce = rng.pick<ReduceKind>(['sum', 'distinct', 'max', 'top', 'alt']);
    const lo = rng.int(-3, 6);
    return {
      filter,
      k: filter === 'div' ? rng.int(2, 5) : filter === 'gt' ? rng.int(-2, 8) : filter === 'range' ? lo : 0,
      hi: filter === 'range' ? lo + rng.int(3, 9) : 0,
      map,
      c: map === 'affine' ? rng.int(2, 4) : map === 'absmod' ? rng.int(3, 7) : 0,
      b: map === 'affine' ? rng.pick([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5]) : 0,
      reduce,
      m: reduce === 'top' ? rng.int(2, 3) : reduce === 'max' ? rng.pick([-1, 0]) : 0,
    };
  },

  difficulty(p) {
    return normalise(FILTER_W[p.filter] + MAP_W[p.map] + REDUCE_W[p.reduce], 0, 6.2);
  },

  code(p, bug = NO_BUGS) {
    const cond = filterExpr(p, bug);
    const expr = mapExpr(p, bug);
    return src(
      'def f(xs):',
      cond ? `    kept = [x for x in xs if ${cond}]` : '    kept = list(xs)',
      expr ? `    vals = [${expr} for x in kept]` : '    vals = kept',
      reduceLines(p, bug),
    );
  },

  bugs(p) {
    const out: string[] = [];
    if (p.filter === 'even' || p.filter === 'odd') out.push('parity');
    if (p.filter === 'div') out.push('div_mod');
    if (p.filter === 'gt' || p.filter === 'range') out.push('cmp');
    if (p.map !== 'same') out.push('map');
    if (p.reduce !== 'sum') out.push('reduce');
    if (p.reduce === 'top') out.push('off1');
    return out;
  },

  message(p) {
    const v = { k: p.k, hi: p.hi, c: p.c, b: p.b, m: p.m };
    return sentence(`${FILTERS[p.filter].write(v)}, ${MAPS[p.map].write(v)}, and ${REDUCES[p.reduce].write(v)}.`);
  },

  parse(message) {
    return tryParse(() => {
      const s = new Scanner(message);
      const [filter, fv] = s.choose(FILTERS);
      s.lit(', ');
      const [map, mv] = s.choose(MAPS);
      s.lit(', and ');
      const [reduce, rv] = s.choose(REDUCES);
      s.lit('.');
      s.done();
      const p: ListParams = {
        filter,
        k: filter === 'div' || filter === 'gt' || filter === 'range' ? num(fv, 'k') : 0,
        hi: filter === 'range' ? num(fv, 'hi') : 0,
        map,
        c: map === 'affine' || map === 'absmod' ? num(mv, 'c') : 0,
        b: map === 'affine' ? num(mv, 'b') : 0,
        reduce,
        m: reduce === 'top' || reduce === 'max' ? num(rv, 'm') : 0,
      };
      check(p.filter !== 'div' || p.k > 0, 'divisor');
      check(p.map !== 'absmod' || p.c > 0, 'modulus');
      return p;
    });
  },

  edgeInputs(p, rng) {
    const one = (xs: number[]): Args => [py(xs)];
    const out: Args[] = [one([]), one([p.m + 2, p.m + 2, -(p.m + 2), 0])];
    if (p.filter === 'gt') {
      out.push(one(rng.shuffle([p.k, p.k + 1, p.k - 1, p.k + 4, -3])));
      out.push(one([p.k, p.k - 2, p.k - 5]));
    } else if (p.filter === 'range') {
      out.push(one(rng.shuffle([p.k - 1, p.k, p.hi, p.hi + 1, p.k + 1])));
      out.push(one([p.k - 1, p.hi + 1, p.hi + 3]));
    } else if (p.filter === 'div') {
      out.push(one(rng.shuffle([0, p.k, -p.k, p.k + 1, 2 * p.k, 3 * p.k])));
      out.push(one([1, p.k + 1, 2 * p.k + 1]));
    } else if (p.filter === 'even' || p.filter === 'odd') {
      out.push(one(rng.shuffle([0, -3, -2, 7, 4, 9])));
      out.push(one(p.filter === 'even' ? [1, 3, -5] : [2, -4, 6]));
    } else {
      out.push(one(rng.shuffle([-7, -2, 0, 5, 5, 11])));
    }
    return out;
  },

  randomInput(_p, rng) {
    const n = rng.int(3, 9);
    return [py(Array.from({ length: n }, () => rng.int(-9, 20)))];
  },
};
