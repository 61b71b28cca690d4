"""Writes generated lenient YAML shapes for the differential test: `generate.py DIR` writes DIR/generated.yaml
and DIR/generated-crlf.yaml, one shape per document.

The shapes are the two of issue 15 and their relatives, at every column that matters: a flow collection
closed or continued at each column from 0 to beyond its content, a quoted or plain scalar continued at each
column from 0 to beyond its key, at nesting depths 0 to 2, with and without trailing commas, tabs and non-ASCII
text. Which of them read and how is for go-yaml v2 to say; the test compares podsec with it.
"""

import os
import sys


def documents():
    for depth in range(3):
        pad = "  " * depth
        head = "".join("  " * d + f"level{d}:\n" for d in range(depth))
        key = pad + "args: "
        for opener, closer, items in (("[", "]", ['"--flag=1"', "ü-plain", "'quoted'"]),
                                      ("{", "}", ["a: 1", '"b": ü', "c: [x]"])):
            for content_col in (0, len(pad), len(pad) + 2, len(pad) + 4):
                for close_col in range(0, len(pad) + 6, 1):
                    for trailing in ("", ","):
                        body = f",\n".join(" " * content_col + item for item in items)
                        yield (f"{head}{key}{opener}\n{body}{trailing}\n{' ' * close_col}{closer}\n"
                               f"{pad}next: 1\n")
            # Content on the opening line, continued at every column.
            for col in range(0, len(pad) + 6):
                yield f"{head}{key}{opener}{items[0]},\n{' ' * col}{items[1]}{closer}\n{pad}next: 1\n"
        for quote in ('"', "'"):
            for col in range(0, len(pad) + 6):
                yield (f"{head}{pad}description: {quote}a long ü value that goes on\n"
                       f"{' ' * col}at column {col}{quote}\n{pad}next: 1\n")
                yield (f"{head}{pad}description: {quote}blank lines\n\n{' ' * col}and 🚀 more\n"
                       f"{' ' * col}{quote}\n{pad}next: 1\n")
        for col in range(0, len(pad) + 6):
            yield f"{head}{pad}description: a plain value\n{' ' * col}continued\n{pad}next: 1\n"
            yield f"{head}{pad}- a: 1\n{' ' * col}b: 2\n"
        for sep in ("\t", " \t", "\t "):
            yield f"{head}{pad}a: [x,{sep}y]\n{pad}b:{sep}1\n"
            yield f"{head}{pad}a:\n{pad}{sep}- x\n"
            yield f"{head}{pad}a: {{x:{sep}1,\n{sep}y: 2}}\n"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    docs = list(documents())
    text = "---\n".join(docs)
    with open(os.path.join(out, "generated.yaml"), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    with open(os.path.join(out, "generated-crlf.yaml"), "w", encoding="utf-8", newline="") as f:
        f.write(text.replace("\n", "\r\n"))


if __name__ == "__main__":
    main()
