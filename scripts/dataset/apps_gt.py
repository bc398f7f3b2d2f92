"""Induction problems as APPS-style call-based tests for verl's built-in code scorer (prime_code).

Reads JSON lines {"inputs": [argument-list literals], "outputs": [canonical literals]} and writes one
line per problem: {"inputs": JSON text of a list with one string per test, its arguments as JSON
lines ("[1, 2]\n3"), "outputs": JSON text of a list with one JSON string per test ("[3]")}, the
format verl's prime_code reads (verl 0.9.1, checked with its own scorer), built from JSON text so
numbers keep their Python spelling (3.0 stays a float, big ints stay exact); or {"skip": reason}. Only values JSON
carries exactly are converted (None, bools, ints, finite floats, str, lists, dicts with str keys);
tuples, sets, bytes and other keys are refused rather than changed, so an APPS test never accepts
what Cairn's canonical comparison would refuse for a difference JSON cannot see. A dict as a whole
argument or output is refused too: APPS-style checkers turn the keys of such a dict into ints.
"""
import ast
import json
import math
import sys


class Refuse(Exception):
    pass


def check(v):
    t = type(v)
    if v is None or t in (bool, int, str):
        return
    if t is float:
        if not math.isfinite(v):
            raise Refuse("non-finite float")
        return
    if t is list:
        for x in v:
            check(x)
        return
    if t is dict:
        for k, x in v.items():
            if type(k) is not str:
                raise Refuse("dict key of type %s" % type(k).__name__)
            check(x)
        return
    raise Refuse("value of type %s" % t.__name__)


def convert(p):
    ins = []
    for text in p["inputs"]:
        args = list(ast.literal_eval("(" + text + ",)")) if text.strip() else []
        if any(type(a) is dict for a in args):
            raise Refuse("a dict argument")
        check(args)
        ins.append(args)
    outs = []
    for text in p["outputs"]:
        v = ast.literal_eval(text)
        if type(v) is dict:
            raise Refuse("a dict output")
        check(v)
        outs.append(v)
    # verl's prime_code (testing_util.run_test, call-based) reads each test's input as JSON lines,
    # one argument per line, and each output as JSON text: json.loads on both, per test.
    return {"inputs": json.dumps(["\n".join(json.dumps(a) for a in args) for args in ins]), "outputs": json.dumps([json.dumps(v) for v in outs])}


for line in sys.stdin:
    try:
        out = convert(json.loads(line))
    except Refuse as e:
        out = {"skip": str(e)}
    except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
        out = {"skip": "not a literal: %s" % type(e).__name__}
    print(json.dumps(out))
