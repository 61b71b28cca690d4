// Unit tests of the extension's pure helpers and its manifest, with `node --test`.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const server = require("../out/lib/server.js");
const manifest = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"));

function fakeBinary(directory, name = "podsec") {
  const file = path.join(directory, name);
  fs.writeFileSync(file, "#!/bin/sh\n");
  fs.chmodSync(file, 0o755);
  return file;
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "podsec-ext-"));
}

/** An extension directory with (or without) a bundled bin/podsec. */
function extensionDir(withBinary = true) {
  const dir = tempDir();
  if (withBinary) {
    fs.mkdirSync(path.join(dir, "bin"));
    fakeBinary(path.join(dir, "bin"));
  }
  return dir;
}

test("podsec.path wins over the bundled binary and PATH, and must be executable", () => {
  const dir = tempDir();
  const configured = fakeBinary(dir, "my-podsec");
  const pathDir = tempDir();
  fakeBinary(pathDir);
  const query = { configuredPath: configured, extensionPath: extensionDir(), envPath: pathDir };
  assert.deepEqual(server.resolveServer(query), { ok: true, command: configured, source: "podsec.path" });
  assert.deepEqual(server.resolveServer({ ...query, strategy: "fromEnvironment" }), {
    ok: true,
    command: configured,
    source: "podsec.path",
  });
  // A wrong setting is reported, never replaced by another binary.
  fs.chmodSync(configured, 0o644);
  const broken = server.resolveServer(query);
  assert.equal(broken.ok, false);
  assert.equal(broken.reason, "configured-missing");
  assert.match(server.missingServerMessage(broken), /podsec\.path \(.*my-podsec\) does not exist or is not executable/);
  assert.equal(server.resolveServer({ ...query, configuredPath: path.join(dir, "missing") }).ok, false);
});

test("useBundled (the default): the bundled binary, then podsec on PATH", () => {
  const ext = extensionDir();
  const pathDir = tempDir();
  const onPath = fakeBinary(pathDir);
  const bundled = path.join(ext, "bin", "podsec");
  assert.equal(server.bundledServer(ext, "linux"), bundled);
  for (const strategy of [undefined, "useBundled", "nonsense"]) {
    assert.deepEqual(server.resolveServer({ configuredPath: "  ", strategy, extensionPath: ext, envPath: pathDir }), {
      ok: true,
      command: bundled,
      source: "bundled",
    });
  }
  // A .vsix without a binary (or a bundled file that is not executable) falls back to PATH.
  assert.deepEqual(server.resolveServer({ extensionPath: extensionDir(false), envPath: pathDir }), {
    ok: true,
    command: onPath,
    source: "PATH",
  });
  fs.chmodSync(bundled, 0o644);
  assert.equal(server.resolveServer({ extensionPath: ext, envPath: pathDir }).command, onPath);
});

test("fromEnvironment: podsec on PATH, then the bundled binary", () => {
  const ext = extensionDir();
  const empty = tempDir();
  const pathDir = tempDir();
  const onPath = fakeBinary(pathDir);
  const query = { strategy: "fromEnvironment", extensionPath: ext, envPath: [empty, pathDir].join(path.delimiter) };
  assert.deepEqual(server.resolveServer(query), { ok: true, command: onPath, source: "PATH" });
  assert.deepEqual(server.resolveServer({ ...query, envPath: empty }), {
    ok: true,
    command: path.join(ext, "bin", "podsec"),
    source: "bundled",
  });
});

test("no usable binary: the notification names what was tried and the install command", () => {
  const ext = extensionDir(false);
  const resolution = server.resolveServer({ extensionPath: ext, envPath: tempDir() });
  assert.deepEqual(resolution, {
    ok: false,
    reason: "not-found",
    searched: [path.join(ext, "bin", "podsec"), "podsec on PATH"],
  });
  const message = server.missingServerMessage(resolution);
  assert.ok(message.includes(server.INSTALL_COMMAND), message);
  assert.ok(message.includes(server.INSTALL_FROM_SOURCE), message);
  assert.ok(message.includes(path.join(ext, "bin", "podsec")), message);
  assert.equal(server.resolveServer({ envPath: undefined }).ok, false);
  assert.equal(server.resolveServer({ envPath: "", platform: "win32" }).searched[0], "podsec.exe on PATH");
});

test("the output channel names the server's version and where the binary came from", () => {
  assert.equal(
    server.serverDescription("/ext/bin/podsec", "bundled", { name: "podsec", version: "0.1.0" }),
    "podsec 0.1.0: /ext/bin/podsec (the bundled binary)",
  );
  assert.equal(
    server.serverDescription("/usr/bin/podsec", "PATH", undefined),
    "podsec (no server info): /usr/bin/podsec (podsec on PATH)",
  );
});

test("initialization options carry only the settings the server reads", () => {
  assert.deepEqual(server.initializationOptions({ level: "baseline", version: "v1.30", path: "/x" }), {
    podsec: { level: "baseline", version: "v1.30" },
  });
  assert.deepEqual(server.initializationOptions({}), { podsec: {} });
  assert.deepEqual(server.initializationOptions({ helm: "/opt/helm/bin/helm", level: "" }), {
    podsec: { helm: "/opt/helm/bin/helm" },
  });
  assert.deepEqual(server.SERVER_ARGS, ["lsp"]);
});

test("the manifest contributes the documented settings and the restart command", () => {
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), [
    "podsec.fixAllOnSave",
    "podsec.helm",
    "podsec.level",
    "podsec.path",
    "podsec.serverStrategy",
    "podsec.syntaxErrors",
    "podsec.trace.server",
    "podsec.version",
  ]);
  assert.deepEqual(properties["podsec.level"].enum, ["privileged", "baseline", "restricted"]);
  assert.deepEqual(properties["podsec.serverStrategy"].enum, server.SERVER_STRATEGIES);
  assert.equal(properties["podsec.serverStrategy"].default, "useBundled");
  assert.deepEqual(properties["podsec.trace.server"].enum, ["off", "messages", "verbose"]);
  for (const [key, value] of Object.entries(properties)) {
    assert.ok(value.description || value.markdownDescription, `${key} is described`);
  }
  assert.equal(manifest.contributes.commands[0].command, "podsec.restartServer");
  assert.deepEqual(manifest.activationEvents, ["onLanguage:yaml", "onLanguage:helm"]);
  assert.ok(new RegExp(properties["podsec.version"].pattern).test("v1.33"));
  assert.ok(!new RegExp(properties["podsec.version"].pattern).test("v1.05"));
});
