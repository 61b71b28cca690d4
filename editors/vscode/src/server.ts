// Pure helpers of the extension, kept free of the `vscode` module so that they can be unit-tested with
// `node --test`: finding the podsec binary, and turning settings into what the server expects.

import * as fs from "node:fs";
import * as path from "node:path";

/** Where to read how to install podsec, shown when no binary is found. */
export const INSTALL_URL = "https://github.com/podsec/podsec#install";

/** The commands that install podsec, named in the notification when no binary is usable. */
// podsec is not on PyPI or crates.io: cargo builds it from the repository (or install the wheel a clone builds).
export const INSTALL_COMMAND = "cargo install --locked --git https://github.com/podsec/podsec podsec";
export const INSTALL_FROM_SOURCE = "cargo install --locked --path server/podsec";

/** The settings the server reads (`podsec.level`, `podsec.version`). */
export interface ServerSettings {
  level?: string;
  version?: string;
  /** `podsec.helm`: the Helm that renders charts (the server's first renderings need it at once). */
  helm?: string;
}

/**
 * `podsec.serverStrategy`, after ruff's `importStrategy`: `useBundled` runs the binary shipped inside the
 * extension, and `podsec` on `PATH` only when the extension has none; `fromEnvironment` prefers `podsec` on
 * `PATH` and falls back to the bundled one. `podsec.path`, when set, wins over both.
 */
export type ServerStrategy = "useBundled" | "fromEnvironment";

export const SERVER_STRATEGIES: readonly ServerStrategy[] = ["useBundled", "fromEnvironment"];

/** Where the binary that will run came from (shown in the output channel). */
export type ServerSource = "podsec.path" | "bundled" | "PATH";

export interface ServerQuery {
  /** The `podsec.path` setting. */
  configuredPath?: string;
  /** The `podsec.serverStrategy` setting; anything else is `useBundled`. */
  strategy?: string;
  /** The extension's own directory: the bundled binary is `bin/podsec` there. */
  extensionPath?: string;
  /** The `PATH` of the extension host. */
  envPath?: string;
  platform?: NodeJS.Platform;
}

export type ServerResolution =
  | { ok: true; command: string; source: ServerSource }
  | { ok: false; reason: "configured-missing" | "not-found"; configuredPath?: string; searched: string[] };

function isExecutable(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binaryName(platform: NodeJS.Platform): string {
  return platform === "win32" ? "podsec.exe" : "podsec";
}

/** The binary a platform-specific `.vsix` carries: `bin/podsec` inside the extension. */
export function bundledServer(extensionPath: string, platform: NodeJS.Platform = process.platform): string {
  return path.join(extensionPath, "bin", binaryName(platform));
}

/** `podsec` on `PATH`, or `undefined`. */
export function serverOnPath(envPath: string | undefined, platform: NodeJS.Platform = process.platform): string | undefined {
  const name = binaryName(platform);
  for (const directory of (envPath ?? "").split(path.delimiter)) {
    if (directory === "") continue;
    const candidate = path.join(directory, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The binary to run, in order: `podsec.path` when set (and then only it: a wrong setting is reported, not
 * silently replaced), then, by `podsec.serverStrategy`, the bundled binary and `podsec` on `PATH`
 * (`useBundled`, the default) or the other way round (`fromEnvironment`).
 */
export function resolveServer(query: ServerQuery): ServerResolution {
  const platform = query.platform ?? process.platform;
  const configured = query.configuredPath?.trim();
  if (configured) {
    return isExecutable(configured)
      ? { ok: true, command: configured, source: "podsec.path" }
      : { ok: false, reason: "configured-missing", configuredPath: configured, searched: [configured] };
  }
  const searched: string[] = [];
  const bundled = (): ServerResolution | undefined => {
    if (!query.extensionPath) return undefined;
    const file = bundledServer(query.extensionPath, platform);
    searched.push(file);
    return isExecutable(file) ? { ok: true, command: file, source: "bundled" } : undefined;
  };
  const onPath = (): ServerResolution | undefined => {
    searched.push(`${binaryName(platform)} on PATH`);
    const file = serverOnPath(query.envPath, platform);
    return file ? { ok: true, command: file, source: "PATH" } : undefined;
  };
  const order = query.strategy === "fromEnvironment" ? [onPath, bundled] : [bundled, onPath];
  for (const attempt of order) {
    const found = attempt();
    if (found) return found;
  }
  return { ok: false, reason: "not-found", searched };
}

/** The notification shown when no binary is usable: what went wrong and the command that installs podsec. */
export function missingServerMessage(resolution: ServerResolution): string {
  if (resolution.ok) return "";
  if (resolution.reason === "configured-missing") {
    return `podsec: the binary set in podsec.path (${resolution.configuredPath}) does not exist or is not executable. Fix the setting, or clear it to use the bundled binary.`;
  }
  return `podsec: no usable podsec binary (looked for ${resolution.searched.join(", ")}). Install it with \`${INSTALL_COMMAND}\` (or \`${INSTALL_FROM_SOURCE}\` in a clone of the repository), or set podsec.path.`;
}

/** The output channel's first line about the server: its version (from `initialize`) and where it came from. */
export function serverDescription(
  command: string,
  source: ServerSource,
  serverInfo: { name: string; version?: string } | undefined,
): string {
  const name = serverInfo ? `${serverInfo.name} ${serverInfo.version ?? "(no version)"}` : "podsec (no server info)";
  const from = source === "bundled" ? "the bundled binary" : source === "PATH" ? "podsec on PATH" : "podsec.path";
  return `${name}: ${command} (${from})`;
}

/** The `initializationOptions` of the server: the `podsec` settings it understands, nothing else. */
export function initializationOptions(settings: ServerSettings): { podsec: ServerSettings } {
  const podsec: ServerSettings = {};
  if (settings.level) podsec.level = settings.level;
  if (settings.version) podsec.version = settings.version;
  if (settings.helm) podsec.helm = settings.helm;
  return { podsec };
}

/** The arguments the binary is started with. */
export const SERVER_ARGS = ["lsp"];

/** The code action kind the server offers for "fix all". */
export const FIX_ALL_KIND = "source.fixAll.podsec";
