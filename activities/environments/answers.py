"""The student's answer, parsed in Python the way Cairn's student activity parses it in TypeScript.

Cairn parses answers in `activities/environments/*.ts` (blocks.ts: stripReasoning, parseBlocks;
induction.ts, summary.ts: parseStudent, parseLiteralAnswer, argumentList). The exported reward
(`cairn export --format verl|trl|openrlhf` writes cairn_reward.py, which embeds this file verbatim)
must read an answer exactly as the student activity did, so this is a line-by-line port with
JavaScript's semantics spelled out where Python's differ: JS `\\s` / `trim()` whitespace (not
Python's str.isspace), ASCII `\\w`, `$` as the end of the string, and string lengths in UTF-16
code units. tests/dataset/answers.test.ts runs both parsers over every completion of a real batch
and a hostile corpus and requires identical results; change both together.
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
