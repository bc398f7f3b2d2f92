"""Dedup keys of a Python source read from stdin: a hash of its tokens without comments and
layout, a hash of its AST with identifiers renamed by first appearance and docstrings dropped, and
a MinHash signature (near-duplicates) of its normalized token 4-grams. Parses only (never executes)
the code. Prints "<code_hash> <ast_hash> <minhash: NUM_PERM integers, comma-separated>".

MinHash: names other than keywords and builtins become ID, numbers NUM, strings STR; comments and
layout are gone (the token stream above); each 4-gram of that stream is hashed (blake2b, 8 bytes)
and NUM_PERM fixed hash functions h_i(x) = (a_i x + b_i) mod (2^31 - 1), with a_i, b_i drawn from
sha256("cairn-minhash-<i>"), keep their minimum. The functions are constants: signatures stored in
Postgres by any process, any day, compare with each other. Changing them needs a new key version."""
import ast, builtins, hashlib, io, keyword, sys, tokenize

sys.setrecursionlimit(3000)
src = sys.stdin.read()
toks = []
for t in tokenize.generate_tokens(io.StringIO(src).readline):
    if t.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER):
        continue
    toks.append("\n" if t.type == tokenize.NEWLINE else tokenize.tok_name[t.type] if t.type in (tokenize.INDENT, tokenize.DEDENT) else t.string)
code_hash = hashlib.sha256(" ".join(toks).encode()).hexdigest()

NUM_PERM, SHINGLE, PRIME = 128, 4, (1 << 31) - 1
_KEEP = set(keyword.kwlist) | set(dir(builtins))
norm = []
for t in tokenize.generate_tokens(io.StringIO(src).readline):
    if t.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
        continue
    norm.append(t.string if t.type != tokenize.NAME or t.string in _KEEP else "ID")
    if t.type == tokenize.NUMBER:
        norm[-1] = "NUM"
    elif t.type == tokenize.STRING or t.type == getattr(tokenize, "FSTRING_START", -1):
        norm[-1] = "STR"
grams = {" ".join(norm[i:i + SHINGLE]) for i in range(max(1, len(norm) - SHINGLE + 1))}
xs = [int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") % PRIME for g in grams]
perms = []
for i in range(NUM_PERM):
    d = hashlib.sha256(b"cairn-minhash-%d" % i).digest()
    perms.append((int.from_bytes(d[:8], "big") % (PRIME - 1) + 1, int.from_bytes(d[8:16], "big") % PRIME))
minhash = [min((a * x + b) % PRIME for x in xs) for a, b in perms]


class Normalize(ast.NodeTransformer):
    def __init__(self):
        self.names = {}

    def rename(self, name):
        return self.names.setdefault(name, "v%d" % len(self.names))

    def visit_Name(self, node):
        node.id = self.rename(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.rename(node.arg)
        node.annotation = None
        return node

    def _body(self, node):
        b = node.body
        if b and isinstance(b[0], ast.Expr) and isinstance(getattr(b[0], "value", None), ast.Constant) and isinstance(b[0].value.value, str):
            node.body = b[1:] or [ast.Pass()]
        return node

    def visit_FunctionDef(self, node):
        node.name = self.rename(node.name)
        node.returns = None
        self._body(node)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = self.rename(node.name)
        self._body(node)
        self.generic_visit(node)
        return node


tree = Normalize().visit(ast.parse(src))
ast_hash = hashlib.sha256(ast.dump(tree, annotate_fields=False, include_attributes=False).encode()).hexdigest()
print(code_hash, ast_hash, ",".join(map(str, minhash)))
