"""Writes the adversarial set of the differential test: `adversarial.py DIR` writes one file per shape into DIR,
each a way podsec's reading could differ from kubectl's (issue 24): scalars go-yaml resolves (integral floats,
`_`, tags), `!!binary`, merges, keys and values JSON cannot hold, kubectl's document splitting, block scalars
on an unterminated last line, go-yaml's limits at their edges, JSON streams, and values across the reader's
16 KiB chunks. One shape per file, because kubectl stops reading a file at its first error.
"""

import os
import sys


def shapes():
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n"
    # Scalars as go-yaml v2 resolves them, and what sigs.k8s.io/yaml makes of them.
    scalars = ["0.0", "0e0", ".0", "-0.0", "+0.0", "0.", "80.0", "08", "080", "8e1", ".8e2", "1e20", "1e21",
               "1e400", ".1e-400", "_0", "0_1", "+_1", "1_000", ".1_0", "0x1p4", "0x1F", "0X1f", "0o17", "0b101",
               "-0b11", "010", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
               "-9223372036854775809", "18446744073709551616", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
               "yes", "On", "n", "~", "Null", "1.5", "-", ".", ".e1", "1e", "0x", "+", "1:20", "=", ".NaN"]
    for i, scalar in enumerate(scalars):
        yield f"scalar-{i:02d}", (f"{pod}    securityContext:\n      runAsUser: {scalar}\n"
                                  f"    ports: [{{containerPort: 80, hostPort: {scalar}}}]\n")
    tagged = ['!!int abc', '!!int "0"', '!!int _0', '!!int 0.5', '!!bool 1', '!!bool "yes"', '!!null x',
              '!!null ""', '!int 0', '! 0', '! "0"', '!!str 0', '!!float "1"', '!!float 0', '!!float abc',
              '!!timestamp 2001-12-14', '!!timestamp x', '!!int 2001-12-14', '!!binary cHJpdmlsZWdlZA==',
              '!!binary "cHJp"', '!!binary cHJ', '!!binary |\n        cHJpdmls\n        ZWdlZA==', '!!merge x',
              '!foo bar', '!!map x']
    for i, value in enumerate(tagged):
        yield f"tag-{i:02d}", f"{pod}    securityContext:\n      value: {value}\n      after: 1\n"
    yield "binary-key", f"{pod}    securityContext:\n      !!binary cHJpdmlsZWdlZA==: true\n"
    merges = ["! <<: *b", '! "<<": *b', "!!merge <<: *b", '"<<": *b', "<<: *s", "<<: [*b, *b]", "!foo <<: *b",
              "<<: {privileged: true}", "privileged: false\n      <<: *b", "<<: *b\n      privileged: false"]
    for i, merge in enumerate(merges):
        yield f"merge-{i:02d}", (f"base: &b {{privileged: true}}\nscalar: &s x\n{pod}"
                                 f"    securityContext:\n      {merge}\n")
    keys = ["~: 1", "? \n: 1", "? [a]\n: 1", "{? {a: 1} : 1}: x", "9223372036854775808: 1", "18446744073709551616: 1",
            ".inf: 1", ".nan: 1", "yes: 1", "1.0: 1", "0x10: 1", "? |\n  block\n: 1", "null: 1", '"": 1']
    for i, key in enumerate(keys):
        yield f"key-{i:02d}", f"a: 0\n{key}\nb: 2\n---\n{pod}"
    for i, value in enumerate([".inf", "-.Inf", ".NaN", "[1, .inf]", "&n .nan\nc: *n", "+.inf"]):
        yield f"value-{i:02d}", f"a: {value}\n---\n{pod}"
    # kubectl's splitter.
    separators = ["---#c", "--- #c", "---\t#c", "---   ", "--- {a: 1}", "--- |", "--- !!map", "----", "---x",
                  "--- a: 1", "...", "... #c", "...\nafter: 1", "--- >\n  folded"]
    for i, separator in enumerate(separators):
        yield f"split-{i:02d}", f"a: 1\n{separator}\nb: 2\n---\n{pod}"
        yield f"split-first-{i:02d}", f"{separator}\nb: 2\n---\n{pod}"
    yield "directive-yaml", f"%YAML 1.1\n---\n{pod}"
    yield "directive-tag", f"%TAG !e! tag:example.com,2000:\n---\n{pod}"
    yield "directive-cr", "%YAML 1.1\r---\ra: 1\r"
    yield "directive-after", f"a: 1\n---\n%YAML 1.1\n---\n{pod}"
    yield "comments-first", f"# c\n\n# d\n---\n{pod}---\n# only\n---\n"
    yield "bom-separator", f"\ufeff---\n{pod}"
    yield "bom-middle", f"a: 1\n---\n\ufeffb: 2\n"
    yield "crlf", pod.replace("\n", "\r\n") + "---\r\nb: |\r\n  x\r\n  y"
    yield "cr-only", "a: 1\rb: 2\r---\rc: 3\r"
    # Block scalars on a last line without a line break.
    for i, tail in enumerate(["|\n  x", "|+\n  x", "|-\n  x", ">\n  x\n  y", "|\n  x\n  ", "|+\n  x\n  ",
                              "|+\n  ", "|\n  x\n\n", "|2\n   x", "|\n  x\n# c", ">-\n  x", "|+\n  x\n\n  "]):
        yield f"block-eof-{i:02d}", f"a: 0\nb: {tail}"
    # go-yaml's limits at their edges.
    for depth in (9_999, 10_000, 10_001):
        yield f"depth-flow-{depth}", "[" * depth + "]" * depth + "\n"
        yield f"depth-items-{depth}", "- " * depth + "x\n"
        yield f"depth-mixed-{depth}", "a: " + "{b: " * depth + "1" + "}" * depth + "\n"
    for aliases in (110, 111):
        yield f"alias-{aliases}", f"a: &a [{', '.join(['x'] * 1000)}]\nb: [{', '.join(['*a'] * aliases)}]\n"
    laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 7))
    yield "alias-laughs", laughs + f"---\n{pod}"
    # JSON streams.
    jpod = ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j\\/\\ud83d\\ude00\\ud800"}, "spec": '
            '{"securityContext": {"runAsUser": 0.0}, "containers": [{"name": "c", "image": "x", '
            '"ports": [{"containerPort": 80, "hostPort": 8e1}]}]}}')
    yield "json-one", jpod + "\n"
    yield "json-stream", f"{jpod}\n{jpod} {jpod}{jpod}\n"
    yield "json-then-yaml", f"{jpod}\nb: 2\n---\n{pod}"
    yield "json-two-then-bad", f"{jpod}\n{jpod}\nb: 2\n"
    yield "json-flow-yaml", "{a: 1, b: [x]}\n---\n" + pod
    yield "json-space-first", "  \n\t " + jpod
    yield "json-deep", '{"a": ' + "[" * 9_999 + "]" * 9_999 + "}\n"
    yield "json-deeper", '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}\n"
    yield "json-array-second", f'{jpod}\n[1, 2]\n"x"\n'
    # Values across the reader's 16 KiB chunks: escapes, surrogate pairs and multi-byte characters at every
    # offset around the boundary.
    for shift in range(0, 8):
        pad = "p" * (16_384 - 40 + shift)
        yield f"chunk-yaml-{shift}", f'a: "{pad}\\u00e9\\x41\\U0001F600ü🚀"\nb: 0.0\n'
        yield f"chunk-json-{shift}", f'{{"a": "{pad}\\ud83d\\ude00\\/ü", "b": 8e1}}\n'
        yield f"chunk-block-{shift}", f"a: |\n  {pad}ü🚀\n  x"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, text in shapes():
        extension = "json" if name.startswith("json") or name.startswith("chunk-json") else "yaml"
        with open(os.path.join(out, f"{name}.{extension}"), "w", encoding="utf-8", newline="") as f:
            f.write(text)


if __name__ == "__main__":
    main()
