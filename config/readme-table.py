#!/usr/bin/env python3
"""Rewrites the configuration table in README.md from config/default.toml (keys, defaults, comments).
Run after changing config/default.toml; a unit test fails when a key is missing from the README."""
import re, pathlib
root = pathlib.Path(__file__).resolve().parent.parent
lines = (root / "config/default.toml").read_text().split("\n")
section, comments, rows = "", [], []
for l in lines:
    s = l.strip()
    if s.startswith("#"):
        c = s.lstrip("#").strip()
        if c and not c.startswith("["):
            comments.append(c)
        continue
    if not s:
        comments = []
        continue
    m = re.match(r"^\[(.+)\]$", s)
    if m:
        section = m.group(1)
        if comments:
            rows.append((section, "(table)", " ".join(comments)))
        comments = []
        continue
    m = re.match(r'^("?[\w.-]+"?)\s*=\s*(.*?)(\s+#\s*(.*))?$', s)
    if m:
        key, val, trail = m.group(1).strip('"'), m.group(2), m.group(4)
        full = (section + "." if section else "") + key
        desc = trail if trail else " ".join(comments)
        if len(val) > 60:
            val = val[:57] + "…"
        rows.append((full, val, desc))
        comments = []
out = ["| key | default | meaning | environment variable |", "|---|---|---|---|"]
for full, val, desc in rows:
    env = "CARD_GATEWAY__" + full.upper().replace(".", "__")
    out.append(f"| `{full}` | `{val.replace('|', '¦')}` | {desc.replace('|', '¦')} | `{env}` |")
readme = (root / "README.md").read_text()
start, end = "<!-- config-table:start -->", "<!-- config-table:end -->"
before, rest = readme.split(start, 1)
_, after = rest.split(end, 1)
(root / "README.md").write_text(before + start + "\n" + "\n".join(out) + "\n" + end + after)
print(f"{len(rows)} rows")
