#!/usr/bin/env python3
"""Assembles README.md from docs/README.head.md, the per-area docs (each shifted so that its top
heading is a level-3 section under its service's level-2 heading) and docs/README.tail.md."""
import pathlib, re

root = pathlib.Path(__file__).resolve().parent
SECTIONS = [
    ("## Mock Azure AD (`mock-aad`)", ["aad-token.md", "aad-web.md", "aad-admin.md"]),
    ("## Mock Exchange (`mock-exchange`)", ["ex-core.md", "ex-surfaces.md", "ntlm.md"]),
    ("## The lab, the cmdlet shell and the reference client (`hma-lab`)",
     ["lab.md", "shell.md", "parser.md", "shellcli.md", "client.md", "engine.md", "scenarios.md",
      "rollover.md", "stale.md"]),
    ("## Real clients over real TLS: `hma-lab serve`", ["frontdoor.md", "realclients.md", "msalnode2.md"]),
]

def shift(text, top_level):
    lines, out, fence = text.splitlines(), [], False
    levels = [len(m.group(1)) for l in lines if (m := re.match(r"^(#+) ", l))]
    # only count headings outside fences
    levels, fence = [], False
    for l in lines:
        if l.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"^(#+) ", l)):
            levels.append(len(m.group(1)))
    delta = top_level - min(levels) if levels else 0
    fence = False
    for l in lines:
        if l.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"^(#+) ", l)):
            l = "#" * min(6, len(m.group(1)) + delta) + l[len(m.group(1)):]
        out.append(l)
    return "\n".join(out).strip() + "\n"

parts = [(root / "README.head.md").read_text().strip() + "\n"]
for heading, files in SECTIONS:
    present = [f for f in files if (root / f).exists()]
    if not present:
        continue
    parts.append(heading + "\n")
    for f in present:
        parts.append(shift((root / f).read_text(), 3))
parts.append((root / "README.tail.md").read_text().strip() + "\n")
(root.parent / "README.md").write_text("\n".join(parts))
