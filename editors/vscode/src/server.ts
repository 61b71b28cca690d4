// Pure helpers of the extension, kept free of the `vscode` module so that they can be unit-tested with
// `node --test`: finding the podsec binary, and turning settings into what the server expects.

import * as fs from "node:fs";
import * as path from "node:path";

/** Where to read how to install podsec, shown when no binary is found. */
export const INSTALL_URL = "https://github.com/podsec/podsec#podsec";

/** The settings the server reads (`podsec.level`, `podsec.version`). */
export interface ServerSettings {
  level?: string;
  version?: string;
}

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

/**
 * The podsec binary to run: `configured` (the `podsec.path` setting) when set, else `podsec` on `PATH`.
 * `undefined` when neither exists, so the caller can say how to install it.
 */
export function findServer(
  configured: string | undefined,
  envPath: string | undefined,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (configured && configured.trim() !== "") {
    return isExecutable(configured) ? configured : undefined;
  }
  const name = platform === "win32" ? "podsec.exe" : "podsec";
  for (const directory of (envPath ?? "").split(path.delimiter)) {
    if (directory === "") continue;
    const candidate = path.join(directory, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The `initializationOptions` of the server: the `podsec` settings it understands, nothing else. */
export function initializationOptions(settings: ServerSettings): { podsec: ServerSettings } {
  const podsec: ServerSettings = {};
  if (settings.level) podsec.level = settings.level;
  if (settings.version) podsec.version = settings.version;
  return { podsec };
}

/** The arguments the binary is started with. */
export const SERVER_ARGS = ["lsp"];

/** The code action kind the server offers for "fix all". */
export const FIX_ALL_KIND = "source.fixAll.podsec";
