"""Change → diagnostics for a full-text edit of a 14,000-line manifest, in podsec and yaml-language-server.

Both servers get the same file and the same edits over stdio; the time is from sending didChange to
receiving the publishDiagnostics that follows it. Usage: editor_peers.py PODSEC YAML_LANGUAGE_SERVER
"""

import json
import subprocess
import sys
import time


def manifest(documents):
    doc = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: team\nspec:\n"
        "  template:\n    spec:\n      containers:\n"
    )
    body = "".join(
        "      - name: c{c}\n        image: registry.example/app:{{i}}\n        ports:\n        - containerPort: 80\n"
        "        securityContext:\n          allowPrivilegeEscalation: false\n          capabilities:\n            drop: [ALL]\n"
        .format(c=c)
        for c in range(15)
    )
    return "".join((doc + body).format(i=i) + "---\n" for i in range(documents))


class Client:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 1

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def read(self):
        length = 0
        while True:
            line = self.process.stdout.readline()
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.process.stdout.read(length))

    def request(self, method, params):
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        self.next_id += 1
        while True:
            message = self.read()
            if "id" in message and "method" not in message:
                return message
            self.answer(message)

    def answer(self, message):
        if "id" in message and "method" in message:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_diagnostics(self, uri):
        while True:
            message = self.read()
            self.answer(message)
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message

    def close(self):
        self.process.kill()


def measure(name, command, settings, text, edits=10):
    client = Client(command)
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": settings})
    client.notify("initialized", {})
    client.notify("workspace/didChangeConfiguration", {"settings": settings})
    uri = "file:///bench/large.yaml"
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    client.wait_diagnostics(uri)
    samples = []
    for version in range(2, 2 + edits):
        changed = text.replace("app-0\n", "app-%d-edited\n" % version, 1)
        started = time.perf_counter()
        client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": changed}]})
        client.wait_diagnostics(uri)
        samples.append(time.perf_counter() - started)
    client.close()
    samples.sort()
    median = samples[len(samples) // 2]
    print("%-22s full-text edit → diagnostics: median %8.1f ms (of %d edits)" % (name, median * 1e3, edits))
    return median


def main():
    podsec, yls = sys.argv[1], sys.argv[2]
    text = manifest(110)
    print("editor path: %d-line file" % text.count("\n"))
    ours = measure("podsec lsp", [podsec, "lsp"], {"podsec": {"debounceMs": 0}}, text)
    theirs = measure("yaml-language-server", [yls, "--stdio"], {"yaml": {"validate": True}}, text)
    print("yaml-language-server / podsec: %.0fx" % (theirs / ours))


if __name__ == "__main__":
    main()
