#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_docs.py: the documentation's references hold.

  scripts/check_docs.py              every doc a source cites exists, with the section it names,
                                     and docs/internals.md's file table names every source file
  scripts/check_docs.py --old REV    also: every heading, number, flag and code span of REV's
                                     README.md is still said somewhere in README.md + docs/

A citation is `docs/NAME.md` optionally followed by a quoted heading ("The journal"); the
heading must be one of that file's headings (a prefix of it is enough, so long headings can be
cited short). Names of docs that do not exist (SPEC.md, DESIGN.md) and section signs are refused
too. Exit status: 0 all hold, 1 something is missing (each printed), 2 usage."""
import fnmatch
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = ["src", "fake_http", "include", "tests", "tools", "bench", "examples", "scripts",
               "fuzz", "clients", "cmake"]
SOURCE_EXT = (".c", ".h", ".sh", ".py", ".js", ".cmake", ".txt", ".in")
CITE = re.compile(r'docs/([A-Za-z0-9_-]+\.md)(?:\s+"([^"]+)")?')
# Sections of the old single README that were split: each part must be a heading now.
SPLIT = {
    "Behaviour, and the choices we made where Twilio is silent": ["Rules and choices"],
    "Read endpoints and the delivery timeline": ["Read endpoints", "The delivery timeline"],
    "When something is wrong": ["Warnings: what Twilio would silently ignore",
                                "Errors that name the parameter",
                                "The journal: readable time, refused requests",
                                "The request log", "Stopping"],
}
# Mentions of the README as a whole, not of a section of it.
README_AS_A_WHOLE = re.compile(r"README's test command|README\.md|/README")
FORBIDDEN = re.compile(r"\b(SPEC|DESIGN|TWILSOCK)\.md\b|\bSPEC\s*§?\d|§|\.\./shared|/work/shared")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def headings(text):
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            out.append(line.lstrip("#").strip().strip("`"))
    return out


def source_files():
    for d in SOURCE_DIRS:
        for base, dirs, files in os.walk(os.path.join(ROOT, d)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "corpus", "__pycache__")]
            for f in files:
                if f.endswith(SOURCE_EXT) and f != "check_docs.py":
                    yield os.path.join(base, f)
    for f in ("CMakeLists.txt", "Makefile", ".ci/run"):
        yield os.path.join(ROOT, f)


def check_citations():
    problems, count = [], 0
    for path in source_files():
        rel = os.path.relpath(path, ROOT)
        for n, line in enumerate(read(path).splitlines(), 1):
            if FORBIDDEN.search(line):
                problems.append(f"{rel}:{n}: cites a document not in the repository: "
                                f"{line.strip()}")
            if re.search(r"\bREADME\b", line) and not README_AS_A_WHOLE.search(line):
                problems.append(f"{rel}:{n}: cites the README by section; cite docs/*.md: "
                                f"{line.strip()}")
            for m in CITE.finditer(line):
                count += 1
                doc = os.path.join(ROOT, "docs", m.group(1))
                if not os.path.exists(doc):
                    problems.append(f"{rel}:{n}: docs/{m.group(1)} does not exist")
                elif m.group(2) and not any(h.lower().startswith(m.group(2).lower())
                                            for h in headings(read(doc))):
                    problems.append(f"{rel}:{n}: docs/{m.group(1)} has no section \"{m.group(2)}\"")
    return problems, count


def slug(heading):
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def check_links():
    """Every relative link of the READMEs and docs/*.md names a file that exists and, after
    `#`, one of its headings."""
    problems, count = [], 0
    docs = ["README.md", "fake_http/README.md", "tests/http_cases/README.md"]
    docs += [os.path.join("docs", f) for f in sorted(os.listdir(os.path.join(ROOT, "docs")))
             if f.endswith(".md")]
    for rel in docs:
        here = os.path.dirname(os.path.join(ROOT, rel))
        for target in re.findall(r"\]\(([^)\s]+)\)", read(os.path.join(ROOT, rel))):
            if re.match(r"[a-z]+:", target):
                continue
            count += 1
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(here, path)) if path else os.path.join(ROOT, rel)
            if not os.path.exists(full):
                problems.append(f"{rel}: link to {target}: no such file")
            elif anchor and anchor not in {slug(h) for h in headings(read(full))}:
                problems.append(f"{rel}: link to {target}: no such heading")
    return problems, count


TABLED_DIRS = ["src", "fake_http", "fake_http/server", "tools"]


def check_file_table():
    """Every .c file of TABLED_DIRS is named in docs/internals.md's "Where things live": by
    its path, by its base name, or by a glob such as `src/replay*.c`."""
    text = read(os.path.join(ROOT, "docs", "internals.md"))
    section = text.split("## Where things live", 1)[-1].split("\n## ", 1)[0]
    spans = set(re.findall(r"`([^`\n]+)`", section))
    problems, count = [], 0
    for d in TABLED_DIRS:
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if not f.endswith(".c"):
                continue
            count += 1
            rel = f"{d}/{f}"
            if not (rel in spans or f in spans
                    or any("*" in g and fnmatch.fnmatch(rel, g) for g in spans)):
                problems.append(f"docs/internals.md \"Where things live\" does not name {rel}")
    return problems, count


def norm(text):
    return re.sub(r"\s+", " ", text.replace("\\|", "|")).lower()


def check_old_readme(rev):
    old = subprocess.run(["git", "-C", ROOT, "show", f"{rev}:README.md"], check=True,
                         capture_output=True, text=True).stdout
    docs = [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
        if f.endswith(".md"))
    new = norm("\n".join(read(p) for p in docs))
    new_headings = [h.lower() for p in docs for h in headings(read(p))]
    items = {
        "heading": set(headings(old)),
        "number": set(re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", old)),
        "flag": set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", old)),
        "code span": set(re.findall(r"`([^`\n]+)`", old)),
    }
    missing = []
    for kind, values in items.items():
        for v in sorted(values):
            if kind == "heading" and v in SPLIT:
                ok = all(part.lower() in new_headings for part in SPLIT[v])
            elif kind == "heading":
                ok = v.lower() in new_headings or norm(v) in new
            else:
                ok = norm(v) in new
            if not ok:
                missing.append(f"{kind} of the old README not found: {v}")
    counts = ", ".join(f"{len(v)} {k}s" for k, v in items.items())
    return missing, counts


def main(argv):
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--old"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems, count = check_citations()
    print(f"citations: {count} docs/*.md references checked")
    link_problems, links = check_links()
    print(f"links: {links} relative links of the READMEs and docs/*.md checked")
    problems += link_problems
    table_problems, files = check_file_table()
    print(f"file table: {files} source files named in docs/internals.md")
    problems += table_problems
    if len(argv) == 3:
        missing, counts = check_old_readme(argv[2])
        print(f"old README ({argv[2]}): {counts} checked")
        problems += missing
    for p in problems:
        print(p)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
