#!/usr/bin/env python3
"""Checks VCD files a cimsim command wrote (issue 23): every declared variable changes at least once, no value
has an x or z bit (every traced value is defined in these models), and every value fits the declared width.
Prints one line per file; exit 1 on the first problem. Usage: vcd_check.py FILE.vcd [...]"""
import sys


def check(path):
    ids, widths, names = {}, {}, {}
    seen = set()
    scope = []
    with open(path) as f:
        text = f.read()
    head, sep, body = text.partition("$enddefinitions")
    if not sep:
        return "no $enddefinitions"
    toks = head.split()
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "$scope":
            scope.append(toks[i + 2]); i += 4; continue
        if t == "$upscope":
            scope.pop(); i += 2; continue
        if t == "$var":
            width, ident, name = int(toks[i + 2]), toks[i + 3], toks[i + 4]
            ids[ident] = ".".join(scope + [name]); widths[ident] = width
            j = i
            while toks[j] != "$end":
                j += 1
            i = j + 1; continue
        i += 1
    if not ids:
        return "no variables"
    changes = 0
    in_comment = False
    for line in body.splitlines()[1:]:
        line = line.strip()
        if in_comment:
            in_comment = "$end" not in line
            continue
        if line.startswith("$comment"):
            in_comment = "$end" not in line
            continue
        if not line or line[0] in "#$":
            continue
        if line[0] in "bB":
            val, ident = line[1:].split()
        elif line[0] in "rR":
            continue
        else:
            val, ident = line[0], line[1:]
        if ident not in ids:
            return "value for undeclared id %r" % ident
        if any(c in "xXzZ" for c in val):
            return "%s = %s has x/z bits" % (ids[ident], val)
        if len(val) > widths[ident]:
            return "%s = %s is wider than %d bits" % (ids[ident], val, widths[ident])
        seen.add(ident); changes += 1
    never = [ids[k] for k in ids if k not in seen]
    if never:
        return "never given a value: " + ", ".join(never)
    print("ok %s: %d variables, %d value changes, no x/z" % (path, len(ids), changes))
    return None


for p in sys.argv[1:]:
    err = check(p)
    if err:
        print("FAIL %s: %s" % (p, err)); sys.exit(1)
