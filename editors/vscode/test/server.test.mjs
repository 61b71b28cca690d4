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

test("the configured path wins, and must be executable", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "podsec-ext-"));
  const configured = fakeBinary(dir, "my-podsec");
  assert.equal(server.findServer(configured, ""), configured);
  fs.chmodSync(configured, 0o644);
  assert.equal(server.findServer(configured, ""), undefined);
  assert.equal(server.findServer(path.join(dir, "missing"), ""), undefined);
});

test("without a configured path, podsec is looked up on PATH", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "podsec-ext-"));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "podsec-ext-"));
  const found = fakeBinary(bin);
  assert.equal(server.findServer("", [empty, bin].join(path.delimiter)), found);
  assert.equal(server.findServer(undefined, empty), undefined);
  assert.equal(server.findServer("  ", undefined), undefined);
});

test("initialization options carry only the settings the server reads", () => {
  assert.deepEqual(server.initializationOptions({ level: "baseline", version: "v1.30", path: "/x" }), {
    podsec: { level: "baseline", version: "v1.30" },
  });
  assert.deepEqual(server.initializationOptions({}), { podsec: {} });
  assert.deepEqual(server.SERVER_ARGS, ["lsp"]);
});

test("the manifest contributes the documented settings and the restart command", () => {
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(properties).sort(), [
    "podsec.fixAllOnSave",
    "podsec.level",
    "podsec.path",
    "podsec.trace.server",
    "podsec.version",
  ]);
  assert.deepEqual(properties["podsec.level"].enum, ["privileged", "baseline", "restricted"]);
  assert.deepEqual(properties["podsec.trace.server"].enum, ["off", "messages", "verbose"]);
  for (const [key, value] of Object.entries(properties)) {
    assert.ok(value.description || value.markdownDescription, `${key} is described`);
  }
  assert.equal(manifest.contributes.commands[0].command, "podsec.restartServer");
  assert.deepEqual(manifest.activationEvents, ["onLanguage:yaml", "onLanguage:helm"]);
  assert.ok(new RegExp(properties["podsec.version"].pattern).test("v1.33"));
  assert.ok(!new RegExp(properties["podsec.version"].pattern).test("v1.05"));
});
