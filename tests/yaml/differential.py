"""Compares podsec's reading with kubectl's, document by document and value by value.

`differential.py GOYAML_LINES PODSEC_LINES KNOWN_TSV` reads the two tools' lines after `goyaml -normalize`
({"file", "start", "value"} or {"file", "start", "error": true}, null documents dropped, objects with the last
duplicate key winning and keys sorted): a document is where a file's reading starts one (kubectl's piece, by
podsec's convention for its start), and both must read it alike, or both refuse it. A difference that
KNOWN_TSV lists (file, start, why it cannot change a verdict) is counted, not failed. Prints
`yaml differential: OK (N documents, N agree, K known)` or the differences and exits 1.
"""

import json
import re
import sys


# The canonical lines start `{"error":true,"file":…,"start":N}` or `{"file":…,"start":N,"value":…}`; values are
# compared as their canonical text, which needs no parsing (a value may nest 10,000 levels deep).
LINE = re.compile(r'^\{("error":true,)?"file":("(?:[^"\\]|\\.)*"),"start":(\d+)(?:,"value":(.*))?\}$')


# What `goyaml -normalize` cannot parse (Go's JSON decoder stops at 10,000 levels, and the line's own object is
# one more) it passes on whole: the tool's own line, compared as written (both write the same format).
RAW = re.compile(r'^\{"file": ("(?:[^"\\]|\\.)*"), "document": \d+, "start": (\d+), (?:"value": (.*)|"error": .*)\}$')


def read(path):
    documents = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith('{"unparsable":'):
                raw = RAW.match(json.loads(line)["unparsable"])
                if not raw:
                    raise SystemExit(f"differential.py: unexpected line in {path}: {line[:200]}")
                file, start, value = raw.groups()
                documents[(json.loads(file), int(start))] = "<error>" if value is None else value
                continue
            match = LINE.match(line.rstrip("\n"))
            if not match:
                raise SystemExit(f"differential.py: unexpected line in {path}: {line[:200]}")
            error, file, start, value = match.groups()
            documents[(json.loads(file), int(start))] = "<error>" if error else value
    return documents


def main():
    goyaml, podsec, known_path = sys.argv[1:4]
    kubectl, ours = read(goyaml), read(podsec)
    known = {}
    with open(known_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            file, start, why = line.rstrip("\n").split("\t", 2)
            known[(file, int(start))] = why
    keys = sorted(set(kubectl) | set(ours), key=lambda k: (k[0], k[1]))
    agree, listed, unexplained = 0, 0, []
    for key in keys:
        theirs, mine = kubectl.get(key, "<absent>"), ours.get(key, "<absent>")
        if theirs == mine:
            agree += 1
        elif any(key[0].endswith(file) and key[1] == start for file, start in known):
            listed += 1
        else:
            unexplained.append((key, theirs, mine))
    stale = [k for k in known if not any(key[0].endswith(k[0]) and key[1] == k[1] for key in keys)]
    for (file, start), theirs, mine in unexplained:
        print(f"differs: {file} at byte {start}\n  kubectl: {theirs[:400]}\n  podsec:  {mine[:400]}")
    for file, start in stale:
        print(f"known-differences.tsv lists {file} at byte {start}, which no file has: remove it")
    if unexplained or stale:
        print(f"yaml differential: FAILED ({len(keys)} documents, {agree} agree, {listed} known, "
              f"{len(unexplained)} unexplained)")
        sys.exit(1)
    print(f"yaml differential: OK ({len(keys)} documents, {agree} agree, {listed} known)")


if __name__ == "__main__":
    main()
