"""Differential test: podsec's YAML reading against libyaml's (PyYAML's C loader), document by document.

Usage: differential.py DUMP_JSONL KNOWN_TSV FILE...

DUMP_JSONL is the output of `cargo run -p podsec-engine --example yaml_dump -- FILE...` (one JSON line per
document podsec reads). Every FILE is cut into documents exactly as podsec cuts them (column-0 `---`/`...`
lines, see `split_documents` in server/engine/src/yaml.rs), and each document is read by libyaml through
PyYAML's `CParser`; scalars are then resolved as go-yaml v2 resolves them (what Kubernetes sees), not as
PyYAML's YAML 1.1 resolver does:

- null: plain ``, `~`, `null`, `Null`, `NULL` (or `!!null`);
- booleans: go-yaml v2's table (`y`, `Y`, `yes`, `on`, `true`, … and their `n`/`no`/`off`/`false` forms);
- integers: Go's `strconv.ParseInt(s, 0, 64)` after removing `_` (`0x1F`, `0o17`, `0b101`, `010` octal);
- everything else is a string, as podsec keeps it: floats (podsec reads none), timestamps (go-yaml v2 also
  keeps a timestamp as a string when decoding into interface{}), sexagesimal `1:20` and `=` (YAML 1.1 types
  go-yaml v2 does not implement);
- mapping keys are their written text; a duplicate key's last value wins (go-yaml v2 and JSON decoding);
  `<<` merge keys are applied as go-yaml v2 applies them.

A difference is either unexpected (the run fails) or listed in KNOWN_TSV (`file<TAB>document<TAB>reason`),
each of which ARCHITECTURE.md explains. Prints `yaml differential: OK (N documents, N agree, K known)`.
"""

import json
import sys

import yaml
from yaml.cyaml import CParser

if not getattr(yaml, "__with_libyaml__", False):
    sys.exit("differential.py: PyYAML has no libyaml (yaml.__with_libyaml__ is false)")

sys.setrecursionlimit(100_000)

NULLS = {"", "~", "null", "Null", "NULL"}
TRUES = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"}
FALSES = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"}
T = "tag:yaml.org,2002:"


def go_int(text):
    """strconv.ParseInt(text, 0, 64) after go-yaml v2 removes `_`; None when it fails."""
    s = text.replace("_", "")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s:
        return None
    base, digits = 10, s
    low = s.lower()
    if low.startswith("0x"):
        base, digits = 16, s[2:]
    elif low.startswith("0o"):
        base, digits = 8, s[2:]
    elif low.startswith("0b"):
        base, digits = 2, s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, digits = 8, s[1:]
    allowed = {16: "0123456789abcdefABCDEF", 10: "0123456789", 8: "01234567", 2: "01"}[base]
    if not digits or not all(c in allowed for c in digits):
        return None
    value = sign * int(digits, base)
    return value if -(2**63) <= value < 2**63 else None


class GoResolver(yaml.resolver.BaseResolver):
    """Resolves untagged plain scalars with go-yaml v2's rules; everything else is a string."""

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            if value in NULLS:
                return T + "null"
            if value in TRUES or value in FALSES:
                return T + "bool"
            if go_int(value) is not None:
                return T + "int"
            if value == "<<":
                return T + "merge"
            return T + "str"
        if kind is yaml.ScalarNode:
            return T + "str"
        if kind is yaml.SequenceNode:
            return T + "seq"
        return T + "map"


class Loader(CParser, GoResolver):
    def __init__(self, stream):
        CParser.__init__(self, stream)
        GoResolver.__init__(self)


def scalar(node):
    tag, value = node.tag, node.value
    if tag == T + "null":
        return None
    if tag == T + "bool":
        if value in TRUES:
            return True
        if value in FALSES:
            return False
        return value
    if tag == T + "int":
        number = go_int(value)
        return value if number is None else number
    return value


def key_text(node):
    return node.value if isinstance(node, yaml.ScalarNode) else "<collection>"


def convert(node):
    """The node as podsec's dump writes it (recursion is fine here: test inputs are shallow)."""
    if isinstance(node, yaml.ScalarNode):
        return scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [convert(item) for item in node.value]
    result = {}
    merged = {}
    for key, value in node.value:
        if key.tag == T + "merge" and isinstance(key, yaml.ScalarNode):
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            # go-yaml v2: later sources do not override earlier ones, explicit keys override all.
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    for k, v in convert(source).items():
                        merged.setdefault(k, v)
            continue
        result[key_text(key)] = convert(value)
    return {**merged, **result} if merged else result


def split_documents(data):
    """podsec's split_documents, on bytes: (start, end) of each document with content."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0

    def is_marker(line, marker):
        if not line.startswith(marker):
            return False
        rest = line[len(marker):]
        return rest == b"" or rest[:1] in (b" ", b"\t", b"\r", b"\n")

    ranges, current, has_content, line_start = [], start, False, start
    while line_start < len(data):
        newline = data.find(b"\n", line_start)
        nxt = len(data) if newline < 0 else newline + 1
        line = data[line_start:nxt]
        if is_marker(line, b"---"):
            if has_content:
                ranges.append((current, line_start))
                current = line_start
            has_content = True
        elif is_marker(line, b"..."):
            ranges.append((current, nxt))
            current, has_content = nxt, False
        elif not has_content:
            trimmed = line.lstrip()
            has_content = not (trimmed == b"" or trimmed.startswith(b"#") or line.startswith(b"%"))
        line_start = nxt
    if has_content:
        ranges.append((current, len(data)))
    return ranges


def libyaml_reading(piece):
    """('value', data) or ('error', message) for one document's bytes."""
    loader = Loader(piece)
    try:
        node = loader.get_single_node()
        return ("value", None if node is None else convert(node))
    except yaml.YAMLError as error:
        return ("error", str(error).splitlines()[0] if str(error) else type(error).__name__)
    except ValueError as error:  # PyYAML's C reader on a control character or invalid UTF-8
        return ("error", str(error))
    finally:
        loader.dispose()


def main():
    dump_path, known_path, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    podsec = {}
    with open(dump_path, encoding="utf-8") as dump:
        for line in dump:
            entry = json.loads(line)
            podsec[(entry["file"], entry["start"])] = entry
    known = {}
    with open(known_path, encoding="utf-8") as table:
        for line in table:
            if line.strip() and not line.startswith("#"):
                file, document, reason = line.rstrip("\n").split("\t", 2)
                known[(file, int(document))] = reason
    compared = agree = 0
    unexpected, seen_known = [], set()
    for file in files:
        with open(file, "rb") as f:
            data = f.read()
        for index, (start, end) in enumerate(split_documents(data)):
            theirs = libyaml_reading(data[start:end])
            entry = podsec.get((file, start))
            if entry is None:
                ours = ("value", None)  # podsec leaves out documents with nothing in them
            elif "error" in entry:
                ours = ("error", entry["error"])
            else:
                ours = ("value", entry["value"])
            if ours == ("value", None) and theirs == ("value", None):
                continue  # an empty (or null) document: nothing for either
            compared += 1
            same = ours[0] == theirs[0] and (ours[0] == "error" or ours[1] == theirs[1])
            if same:
                agree += 1
                continue
            if (file, index) in known:
                seen_known.add((file, index))
                continue
            unexpected.append((file, index, ours, theirs))
    for file, index, ours, theirs in unexpected:
        print(f"yaml differential: {file} document {index}:", file=sys.stderr)
        print(f"  podsec:  {json.dumps(ours, ensure_ascii=False)[:400]}", file=sys.stderr)
        print(f"  libyaml: {json.dumps(theirs, ensure_ascii=False, default=str)[:400]}", file=sys.stderr)
    stale = sorted(set(known) - seen_known)
    for file, index in stale:
        print(f"yaml differential: {file} document {index} is listed as a known difference but agrees",
              file=sys.stderr)
    if unexpected or stale:
        print(f"yaml differential: FAILED ({compared} documents, {agree} agree, {len(seen_known)} known, "
              f"{len(unexpected)} unexpected, {len(stale)} stale)")
        return 1
    print(f"yaml differential: OK ({compared} documents, {agree} agree, {len(seen_known)} known)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
