// `npm run package`: a platform-specific .vsix that brings its own server. The release binary goes to
// bin/podsec — taken from PODSEC_BINARY when that names one (the tests pass the binary they built once),
// else built with `cargo build --release` and found through `cargo metadata` (CARGO_TARGET_DIR may move
// it) — then `vsce package --target <this platform>` writes podsec-<target>.vsix.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const extension = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const repository = path.resolve(extension, "..", "..");
const exe = process.platform === "win32" ? ".exe" : "";

/** VS Code's name for this platform (`vsce package --target`). */
function vsceTarget() {
  const arch = { x64: "x64", arm64: "arm64", arm: "armhf" }[process.arch];
  if (!arch || !["linux", "darwin", "win32"].includes(process.platform)) {
    throw new Error(`no VS Code target for ${process.platform}-${process.arch}`);
  }
  return `${process.platform}-${arch}`;
}

function releaseBinary() {
  const given = process.env.PODSEC_BINARY;
  if (given) {
    fs.accessSync(given, fs.constants.X_OK);
    return path.resolve(given);
  }
  const cargo = { cwd: repository, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" };
  execFileSync("cargo", ["build", "--release", "--locked", "-p", "podsec", "--bin", "podsec"], {
    ...cargo,
    stdio: "inherit",
  });
  const metadata = JSON.parse(execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps", "--locked"], cargo));
  return path.join(metadata.target_directory, "release", `podsec${exe}`);
}

const target = vsceTarget();
const binary = releaseBinary();
const bundled = path.join(extension, "bin", `podsec${exe}`);
fs.rmSync(path.join(extension, "bin"), { recursive: true, force: true });
fs.mkdirSync(path.dirname(bundled), { recursive: true });
fs.copyFileSync(binary, bundled);
fs.chmodSync(bundled, 0o755);
fs.copyFileSync(path.join(repository, "LICENSE"), path.join(extension, "LICENSE"));
const out = `podsec-${target}.vsix`;
const vsce = path.join(extension, "node_modules", "@vscode", "vsce", "vsce");
execFileSync(process.execPath, [vsce, "package", "--no-dependencies", "--target", target, "--out", out], {
  cwd: extension,
  stdio: "inherit",
});
console.log(`${out}: ${binary} bundled as bin/podsec${exe}`);
