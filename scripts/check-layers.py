#!/usr/bin/env python3
"""Fails on a `use crate::…` import that points up the layer list, or on a new import cycle.

The layers are the ones in ARCHITECTURE.md, top first. A file belongs to the top-level module of its
path (`src/webhooks/delivery/worker.rs` → `webhooks`, `src/state.rs` → `state`); a module may import
modules of its own layer or of any layer below it. Imports inside one top-level module are not checked
(`simulator` has its own internal circle; see ARCHITECTURE.md).

Every `use crate::…` statement is read, including multi-line `use crate::{a::X, b::{Y, Z}}` groups and
`pub use`, and so is every inline path such as `crate::webhooks::WebhookHub` in a type or a call (an
import in all but name), after comments and string literals are blanked out. `#[cfg(test)]` modules
(inline, or `#[cfg(test)] mod x;` files) are not production dependencies and are skipped. Today's upward
imports are listed in ALLOWED below, each with its reason: the check passes today and fails on any new
one, and it also fails when an allowed import has gone (so the list only shrinks — delete the line).

Circles: two modules that import each other must be listed in ALLOWED_CYCLES; and with the ALLOWED
upward imports taken out, the module graph must have no circle at all (so a new circle fails whether it
comes from a new upward import or from two modules of one layer importing each other).

    scripts/check-layers.py              check src/ (exit 1 listing file:line on a violation)
    scripts/check-layers.py --graph      print the module graph (edges with counts) and the cycles
    scripts/check-layers.py --self-test  check the checker on a tiny synthetic tree
"""

import os
import re
import sys
import tempfile

# Top first. A module may import its own layer and every layer below; never one above.
# The same list, with what each layer is for, is in ARCHITECTURE.md.
LAYERS = [
    ["main", "bin"],                                            # binaries (they `use card_gateway::…`)
    ["upstream_check", "testing"],                              # the platform-measuring command; test support
    ["startup", "cli", "openapi"],                              # assembly: settings → stores → App; CLI; OpenAPI
    ["routes"],                                                 # one module per resource, the `routes!` list
    ["webhooks"],                                               # platform webhooks in, events, SSE, deliveries out
    ["operations"],                                             # the lifecycle of every state-changing call
    ["state"],                                                  # AppState, what handlers take
    ["auth", "rate_limit", "idempotency", "health"],            # request middlewares; health and the probe
    ["domain"],                                                 # public shapes, wire → public mapping
    ["http"],                                                   # extractors, validation, request id, CORS, fallback
    ["tenancy", "error"],                                       # ownership, userReqNo, cursors; the one error type
    ["simulator"],                                              # the platform stand-in (speaks upstream's wire types)
    ["upstream"],                                               # the 27 operations, wire types, typed client
    ["storage", "metrics", "telemetry", "dev_keys", "reference"],  # Redis pool, metrics, tracing, dev keys, tables
    ["config"],                                                 # layered settings and production guards
    ["envelope", "sensitive", "policy", "platform_ops", "capped_body"],  # leaves: RSA codec, secrets, route policy, operation list, capped reads
    ["lenient"],                                                # the vendor's lenient JSON decoders (wire types and `sensitive`)
]

# Today's upward imports (issue 14): "importer -> imported": why it exists / where it should go. The pair
# covers every import between the two modules; a new pair fails the check.
ALLOWED = {}

# Modules that import each other today (a two-module circle), as sorted pairs. Each is closed by one of the
# ALLOWED upward imports above. Longer circles are caught too: with the ALLOWED imports taken out, the
# module graph must have no circle at all.
ALLOWED_CYCLES = set()

ROOT_FILES = {"lib.rs": "lib", "main.rs": "main"}


def module_of(rel):
    """Top-level module of a path relative to src/ ('webhooks/sse.rs' → 'webhooks')."""
    parts = rel.replace(os.sep, "/").split("/")
    if len(parts) == 1:
        name = parts[0]
        return ROOT_FILES.get(name, name[:-3] if name.endswith(".rs") else name)
    return parts[0]


def blank_comments_and_strings(text):
    """The text with comments, string and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            close = '"' + m.group(1)
            j = text.find(close, i + len(m.group(0)))
            j = n if j < 0 else j + len(close)
            out.append(blank(text[i:j]))
            i = j
        elif c == "b" and i + 1 < n and text[i + 1] in "\"'" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            out.append(" ")
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i : j + 1]))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'", text[i:])
            if m:  # a char literal; otherwise a lifetime or label
                out.append(blank(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


USE_RE = re.compile(r"\buse\s+(crate|card_gateway)\s*::\s*")


def first_segments(tree, start_line, text_before):
    """Top-level modules named by a use tree (the text after `crate::`, up to `;`), with lines."""
    tree_offset_line = start_line
    out = []
    if not tree.startswith("{"):
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", tree)
        if m:
            out.append((m.group(0), tree_offset_line))
        return out
    depth, token_start, line = 0, True, start_line
    i = 0
    while i < len(tree):
        c = tree[i]
        if c == "\n":
            line += 1
        if c == "{":
            depth += 1
            token_start = depth == 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 1:
            token_start = True
        elif depth == 1 and token_start and (c.isalpha() or c == "_"):
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", tree[i:])
            out.append((m.group(0), line))
            i += len(m.group(0))
            token_start = False
            continue
        i += 1
    return out


PATH_RE = re.compile(r"(?<![A-Za-z0-9_$:])(?:crate|card_gateway)\s*::\s*([A-Za-z_][A-Za-z0-9_]*)")
TEST_MOD_RE = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*([{;])")


def test_spans(text):
    """Spans of inline `#[cfg(test)] mod x { … }` blocks, and the names of `#[cfg(test)] mod x;` files."""
    spans, files = [], set()
    for m in TEST_MOD_RE.finditer(text):
        if m.group(2) == ";":
            files.add(m.group(1))
            continue
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        spans.append((m.start(), j))
    return spans, files


def imports_in(path, include_tests=False):
    """(line, imported top-level module) for every `use crate::…` and inline `crate::x::…` path in one
    file, outside `#[cfg(test)]` modules unless include_tests."""
    with open(path, encoding="utf-8") as f:
        text = blank_comments_and_strings(f.read())
    skip, _ = ([], set()) if include_tests else test_spans(text)
    found, used = [], []

    def skipped(pos):
        return any(a <= pos < b for a, b in skip)

    for m in USE_RE.finditer(text):
        end = text.find(";", m.end())
        end = len(text) if end < 0 else end
        used.append((m.start(), end))
        if skipped(m.start()):
            continue
        line = text.count("\n", 0, m.end()) + 1
        for name, ln in first_segments(text[m.end() : end], line, text[: m.end()]):
            if name not in ("self", "super", "crate"):
                found.append((ln, name))
    for m in PATH_RE.finditer(text):
        if skipped(m.start()) or any(a <= m.start() < b for a, b in used):
            continue
        found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def test_only_files(src):
    """Files that are `#[cfg(test)] mod x;` children (and everything under them), relative to src/."""
    out = set()
    for dirpath, _, filenames in os.walk(src):
        for fn in filenames:
            if not fn.endswith(".rs"):
                continue
            full = os.path.join(dirpath, fn)
            with open(full, encoding="utf-8") as f:
                _, names = test_spans(blank_comments_and_strings(f.read()))
            base = dirpath if fn in ("mod.rs", "lib.rs", "main.rs") else os.path.join(dirpath, fn[:-3])
            for name in names:
                out.add(os.path.relpath(os.path.join(base, name + ".rs"), src))
                out.add(os.path.relpath(os.path.join(base, name), src) + os.sep)
    return out


def scan(src, include_tests=False):
    """[(file relative to src/, line, importer module, imported module)] for every crate import."""
    rows = []
    tests = set() if include_tests else test_only_files(src)
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith(".rs"):
                continue
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, src)
            if rel in tests or any(rel.startswith(t) for t in tests if t.endswith(os.sep)):
                continue
            mine = module_of(rel)
            for line, other in imports_in(full, include_tests):
                if other != mine:
                    rows.append((rel, line, mine, other))
    return rows


def layer_index(layers):
    return {m: i for i, layer in enumerate(layers) for m in layer}


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(tuple(sorted(comp)))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def check(src, layers, allowed, allowed_cycles, out=sys.stdout):
    """Prints the problems; returns their number."""
    rank = layer_index(layers)
    rows = scan(src)
    problems = 0
    unplaced = sorted({m for _, _, a, b in rows for m in (a, b) if m not in rank and m != "lib"})
    for m in unplaced:
        print(f"module `{m}` is in no layer: add it to LAYERS (and ARCHITECTURE.md)", file=out)
        problems += 1
    seen_pairs = set()
    for rel, line, a, b in rows:
        if a == "lib" or a not in rank or b not in rank:
            continue
        if rank[b] < rank[a]:  # b sits above a
            pair = f"{a} -> {b}"
            seen_pairs.add(pair)
            if pair not in allowed:
                print(f"src/{rel}:{line}: upward import `{a}` -> `{b}` ({b} is above {a} in the layer list)", file=out)
                problems += 1
    for pair in sorted(set(allowed) - seen_pairs):
        print(f"allowed upward import `{pair}` no longer exists: delete it from ALLOWED", file=out)
        problems += 1
    edges = {(a, b) for _, _, a, b in rows if a != "lib"}
    mutual = sorted({tuple(sorted((a, b))) for a, b in edges if (b, a) in edges})
    for pair in mutual:
        if pair not in allowed_cycles:
            print(f"import cycle between top-level modules: {pair[0]} <-> {pair[1]} (they import each other)", file=out)
            problems += 1
    for pair in sorted(set(allowed_cycles) - set(mutual)):
        print(f"allowed cycle {pair[0]} <-> {pair[1]} no longer exists: delete it from ALLOWED_CYCLES", file=out)
        problems += 1
    rest = {(a, b) for a, b in edges if f"{a} -> {b}" not in allowed}
    for cyc in cycles(rest):
        print(f"import cycle not closed by a known upward import: {' <-> '.join(cyc)}", file=out)
        problems += 1
    return problems


def graph(src):
    rank = layer_index(LAYERS)
    rows = scan(src)
    counts = {}
    for _, _, a, b in rows:
        counts[(a, b)] = counts.get((a, b), 0) + 1
    for (a, b), k in sorted(counts.items()):
        up = " UP" if a in rank and b in rank and rank[b] < rank[a] else ""
        print(f"{a:>15} -> {b:<15} {k:3}{up}")
    edges = set(counts)
    for cyc in cycles(edges):
        print("strongly connected (all edges):", " <-> ".join(cyc))
    for pair in sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges}):
        print("mutual:", " <-> ".join(pair))
    rest = {(a, b) for a, b in edges if f"{a} -> {b}" not in ALLOWED}
    print("cycles without the allowed upward imports:", cycles(rest) or "none")


def self_test():
    layers = [["top"], ["mid"], ["low"]]
    files = {
        "lib.rs": "pub mod top; pub mod mid; pub mod low;\n",
        "top/mod.rs": "use crate::{\n    mid::Thing,\n    low::{self, Other},\n};\n",
        "mid.rs": "// use crate::top::Fake;  (a comment, not an import)\n"
        'const S: &str = "use crate::top::AlsoFake;";\n'
        "fn f<'a>(x: &'a str) -> char { 'x' }\n"
        "pub use crate::low::Base;\n",
        "low/mod.rs": "pub mod inner;\n",
        "low/inner.rs": "use crate::low::Sibling;\nuse crate::mid::\n    Upward;\n",
    }
    failures = []

    def expect(name, cond):
        if not cond:
            failures.append(name)

    with tempfile.TemporaryDirectory() as d:
        for rel, body in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(body)
        rows = scan(d)
        got = sorted((r.replace(os.sep, "/"), line, a, b) for r, line, a, b in rows)
        expect(
            "scan finds group items, pub use and a multi-line path, skips comments/strings/own module",
            got == [("low/inner.rs", 2, "low", "mid"), ("mid.rs", 4, "mid", "low"),
                    ("top/mod.rs", 2, "top", "mid"), ("top/mod.rs", 3, "top", "low")],
        )
        import io

        buf = io.StringIO()
        n = check(d, layers, {}, set(), out=buf)
        expect("an upward import fails with file:line", "src/low/inner.rs:2: upward import `low` -> `mid`" in buf.getvalue())
        expect("the low <-> mid cycle is reported", "low <-> mid (they import each other)" in buf.getvalue())
        expect("a circle not closed by an allowed import is reported", "not closed by a known upward import: low <-> mid" in buf.getvalue())
        expect("three problems", n == 3)
        expect("the cycle is found", cycles({(a, b) for _, _, a, b in rows}) == [("low", "mid")])
        buf = io.StringIO()
        n = check(d, layers, {"low -> mid": "test"}, {("low", "mid")}, out=buf)
        expect("allowed import and cycle pass", n == 0)
        buf = io.StringIO()
        n = check(d, layers, {"low -> mid": "test", "low -> top": "gone"}, {("low", "mid")}, out=buf)
        expect("a stale allowance fails", n == 1 and "low -> top" in buf.getvalue())
        buf = io.StringIO()
        n = check(d, [["top"], ["mid"]], {}, set(), out=buf)
        expect("a module in no layer fails", "module `low` is in no layer" in buf.getvalue())
        buf = io.StringIO()
        n = check(d, [["top"], ["mid", "low"]], {}, {("low", "mid")}, out=buf)
        expect("a circle inside one layer fails even when its pair is listed",
               n == 1 and "not closed by a known upward import" in buf.getvalue())
        # A three-module circle closed by a new upward import: top -> mid -> low -> top.
        with open(os.path.join(d, "low", "inner.rs"), "w") as f:
            f.write("use crate::top::Again;\n")
        buf = io.StringIO()
        n = check(d, layers, {}, set(), out=buf)
        expect("a longer circle through a new upward import fails",
               "src/low/inner.rs:1: upward import `low` -> `top`" in buf.getvalue()
               and "not closed by a known upward import: low <-> mid <-> top" in buf.getvalue())
    if failures:
        for f in failures:
            print("self-test FAILED:", f)
        return 1
    print("self-test ok")
    return 0


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(os.path.dirname(here), "src")
    if "--self-test" in argv:
        return self_test()
    if "--graph" in argv:
        graph(src)
        return 0
    n = check(src, LAYERS, ALLOWED, ALLOWED_CYCLES)
    if n:
        print(f"check-layers: {n} problem(s); the layers are in ARCHITECTURE.md and at the top of {__file__}")
        return 1
    print(f"check-layers: ok ({len(ALLOWED)} known upward imports, {len(ALLOWED_CYCLES)} known cycles)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
