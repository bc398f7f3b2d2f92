"""How Cairn reads a student's answer and decides a reward: the one implementation.

Two users run this file, so the exported reward grades exactly as Cairn does:
- Cairn itself: the student activity parses every completion with `parse_student` and the grader
  decides every attempt with `compare_outcomes`, both through activities/environments/answers-py.ts,
  which imports it in `python3 -I -S -B` and calls `_serve` (one JSON request on stdin, its answer on stdout).
- `cairn export --format verl|trl|openrlhf` embeds this file verbatim in cairn_reward.py.

The parser keeps the rules the prompts promise (fenced blocks, reasoning removed): JavaScript-style
whitespace (the `\\s` set, not str.isspace), ASCII word characters, and lengths in UTF-16 code
units, as Cairn's parser has always counted them. Imports are the standard library only (re, json).
"""
import re

# JavaScript's WhiteSpace + LineTerminator set (what `\s` and String.prototype.trim use).
_JS_WS_CHARS = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS = "[" + re.escape(_JS_WS_CHARS) + "]"
_OPEN = re.compile(r"\A" + _WS + r"*(`{3,})" + _WS + r"*([A-Za-z0-9_+\-]*)" + _WS + r"*\Z")
_THINK = re.compile(r"<think>[\s\S]*?</think>")
_ANSWER = re.compile(r"<answer>([\s\S]*?)(</answer>|\Z)")
_CALL = re.compile(r"\Af" + _WS + r"*\(([\s\S]*)\)\Z")
_TRAILING_COMMA = re.compile("," + _WS + r"*\Z")

MAX_LITERAL_ANSWER = 10000
_LOOSE = ("", "python", "py", "text", "plaintext")


def js_trim(s):
    return s.strip(_JS_WS_CHARS)


def js_len(s):
    """Length in UTF-16 code units, as JavaScript counts it."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def strip_reasoning(text):
    t = _THINK.sub("", text)
    i = t.find("<think>")
    if i >= 0:
        t = t[:i]
    m = _ANSWER.search(t)
    return (m.group(1) or "") if m else t


def parse_blocks(text):
    """All fenced blocks in order, as (lang, body)."""
    blocks, cur = [], None
    for line in re.split(r"\r?\n", text):
        if cur is None:
            m = _OPEN.match(line)
            if m:
                cur = (m.group(1), m.group(2).lower(), [])
        else:
            t = js_trim(line)
            if t == cur[0] or (t.startswith(cur[0]) and t.replace("`", "") == ""):
                blocks.append((cur[1], "\n".join(cur[2])))
                cur = None
            else:
                cur[2].append(line)
    return blocks


def _literal(text, lang):
    blocks = parse_blocks(strip_reasoning(text))
    own = [b for b in blocks if b[0] == lang]
    loose = [b for b in blocks if b[0] in _LOOSE]
    block = own[-1] if own else (loose[-1] if loose else None)
    if block is None:
        return False, "no ```%s block in the answer" % lang
    body = js_trim(block[1])
    if body == "":
        return False, "the ```%s block is empty" % lang
    if js_len(body) > MAX_LITERAL_ANSWER:
        return False, "the answer is %d characters long; at most %d are read" % (js_len(body), MAX_LITERAL_ANSWER)
    return True, body


def argument_list(body):
    m = _CALL.match(js_trim(body))
    inner = m.group(1) if m else body
    return js_trim(_TRAILING_COMMA.sub("", js_trim(inner), count=1))


def parse_student(env, text):
    """(True, answer) or (False, reason): the answer is code (induction) or a Python literal."""
    if env == "induction":
        blocks = [b for b in parse_blocks(strip_reasoning(text)) if b[0] in ("python", "py", "")]
        if not blocks or js_trim(blocks[-1][1]) == "":
            return False, "no ```python block in the answer"
        return True, blocks[-1][1]
    if env == "deduction":
        return _literal(text, "output")
    if env in ("abduction", "fuzzing"):
        ok, value = _literal(text, "input")
        if not ok:
            return ok, value
        args = argument_list(value)
        return (True, args) if args != "" else (False, "the answer has no arguments")
    raise ValueError("unknown environment %r" % (env,))


def compare_outcomes(outcomes, expected):
    """Cairn's reward rule on the sandbox's outcomes ({"status", "out"} per input): an input passes
    only when it ran ("ok") and its canonical output equals the expected canonical string exactly;
    the attempt passes only with at least one input and all of them passing. Returns (verdicts,
    passed, pass). Expected values never enter the sandbox, so nothing the code does can forge a pass."""
    if len(outcomes) != len(expected):
        raise ValueError("compare_outcomes: %d outcomes for %d expected values" % (len(outcomes), len(expected)))
    verdicts = []
    for o, e in zip(outcomes, expected):
        status = o.get("status")
        if status != "ok":
            verdicts.append(status)
        else:
            out = o.get("out")
            verdicts.append("ok" if type(out) is str and out == e else "wrong")
    passed = sum(1 for v in verdicts if v == "ok")
    return verdicts, passed, len(verdicts) > 0 and passed == len(verdicts)


def _answer(req):
    if req.get("op") == "parse":
        return [list(parse_student(req["env"], t)) for t in req["texts"]]
    if req.get("op") == "compare":
        res = []
        for c in req["cases"]:
            v, n, ok = compare_outcomes(c["outcomes"], c["expected"])
            res.append({"verdicts": v, "passed": n, "pass": ok})
        return res
    raise ValueError("unknown op %r" % (req.get("op"),))


def _serve(stdin, stdout):
    """One JSON request on stdin, one JSON answer on stdout (ensure_ascii, so lone surrogates survive):
    {"op": "parse", "env": E, "texts": [...]}              -> [[true, answer] | [false, reason], ...]
    {"op": "compare", "cases": [{"outcomes", "expected"}]} -> [{"verdicts", "passed", "pass"}, ...]
    With --lines: one request per line, one answer per line ({"ok": answer} or {"error": text}), until EOF."""
    import json
    if "--lines" not in __import__("sys").argv:
        stdout.write(json.dumps(_answer(json.loads(stdin.read()))))
        stdout.flush()
        return
    for line in stdin:
        try:
            out = {"ok": _answer(json.loads(line))}
        except Exception as e:  # a bad request is the caller's bug: say so, keep serving
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        stdout.write(json.dumps(out) + "\n")
        stdout.flush()
