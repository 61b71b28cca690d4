"""Differential test: podsec's YAML reading against libyaml's (PyYAML's C loader), document by document.

Usage: differential.py DUMP_JSONL KNOWN_TSV FILE...

DUMP_JSONL is the output of `cargo run -p podsec-engine --example yaml_dump -- FILE...` (one JSON line per
document podsec reads). Every FILE is cut into documents exactly as podsec cuts them (column-0 `---`/`...`
lines, see `split_documents` in server/engine/src/yaml.rs), and each document is read by libyaml through
PyYAML's `CParser`, whose events are composed here as go-yaml v2 composes them (not by PyYAML's composer,
which refuses an anchor defined twice) and whose scalars are resolved as go-yaml v2 resolves them (what
Kubernetes sees), not as PyYAML's YAML 1.1 resolver does:

- null: plain ``, `~`, `null`, `Null`, `NULL` (or `!!null`); a quoted scalar, or one with the non-specific
  tag `!`, is never resolved;
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


def resolve_scalar(event):
    """A scalar event's value as go-yaml v2 decodes it into interface{} (and as podsec's dump writes it)."""
    value, tag = event.value, event.tag
    if tag is None and event.implicit[0]:
        # Plain and untagged: go-yaml v2's resolve().
        if value in NULLS:
            return None
        if value in TRUES:
            return True
        if value in FALSES:
            return False
        number = go_int(value)
        return value if number is None else number
    # Quoted, or tagged (`!` included: go-yaml v2 does not resolve a non-specific tag).
    if tag == T + "null":
        return None
    if tag == T + "bool" and (value in TRUES or value in FALSES):
        return value in TRUES
    if tag == T + "int" and go_int(value) is not None:
        return go_int(value)
    return value


def is_merge(event):
    return (isinstance(event, yaml.ScalarEvent) and event.value == "<<"
            and ((event.tag is None and event.implicit[0]) or event.tag == T + "merge"))


class Collection:
    """A mapping or sequence being composed from events."""

    def __init__(self, event):
        self.event = event
        self.mapping = isinstance(event, yaml.MappingStartEvent)
        self.items = []  # values, or (key, value) pairs
        self.key = None  # a mapping's pending key: (text, is_merge)

    def add(self, value, key_event=None):
        if not self.mapping:
            self.items.append(value)
        elif self.key is None:
            if isinstance(key_event, yaml.ScalarEvent):
                self.key = (key_event.value, is_merge(key_event))
            else:
                self.key = ("<collection>", False)
        else:
            text, merge = self.key
            self.key = None
            if merge:
                # go-yaml v2 decodes in source order: a merge sets its mapping's keys (a sequence's
                # mappings last first, so that the first wins) over the keys before it; later keys win.
                sources = value if isinstance(value, list) else [value]
                if not all(isinstance(source, dict) for source in sources):
                    raise yaml.YAMLError("map merge requires map or sequence of maps as the value")
                for source in reversed(sources):
                    self.items.extend(source.items())
            else:
                self.items.append((text, value))

    def value(self):
        if not self.mapping:
            return self.items
        result = {}
        for text, value in self.items:
            result[text] = value
        return result


def compose(loader):
    """The document's value from libyaml's events, composed as go-yaml v2 does (an anchor defined again stands
    for its last definition; an alias to an unknown anchor is an error)."""
    anchors, stack, root = {}, [], None
    while not loader.check_event(yaml.StreamEndEvent):
        event = loader.get_event()
        if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.DocumentEndEvent)):
            continue
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append(Collection(event))
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            done = stack.pop()
            value, start = done.value(), done.event
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise yaml.YAMLError(f"unknown anchor '{event.anchor}' referenced")
            value, start = anchors[event.anchor], event
        else:
            value, start = resolve_scalar(event), event
        if getattr(start, "anchor", None) is not None and not isinstance(start, yaml.AliasEvent):
            anchors[start.anchor] = value
        if stack:
            stack[-1].add(value, start)
        else:
            root = value
    return root


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
    loader = CParser(piece)
    try:
        return ("value", compose(loader))
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
