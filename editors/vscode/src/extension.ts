// The VS Code client of the podsec language server: it starts `podsec lsp` on YAML files, passes the
// settings, restarts on demand and can apply the safe fixes on save. All analysis happens in the server.

import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { FIX_ALL_KIND, INSTALL_URL, SERVER_ARGS, findServer, initializationOptions } from "./server";

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

function settings() {
  const config = vscode.workspace.getConfiguration("podsec");
  return {
    path: config.get<string>("path"),
    level: config.get<string>("level"),
    version: config.get<string>("version"),
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const current = settings();
  const command = findServer(current.path, process.env.PATH);
  if (!command) {
    const choice = await vscode.window.showErrorMessage(
      current.path
        ? `podsec: the binary set in podsec.path (${current.path}) does not exist or is not executable.`
        : "podsec: no `podsec` binary on PATH. Install it, or set podsec.path.",
      "How to install",
    );
    if (choice) await vscode.env.openExternal(vscode.Uri.parse(INSTALL_URL));
    return;
  }
  output ??= vscode.window.createOutputChannel("podsec", { log: true });
  const serverOptions: ServerOptions = { command, args: SERVER_ARGS };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "yaml" },
      { scheme: "untitled", language: "yaml" },
      // Chart templates, as the Kubernetes extension names them.
      { scheme: "file", language: "helm" },
    ],
    synchronize: { configurationSection: "podsec" },
    initializationOptions: initializationOptions(current),
    outputChannel: output,
    traceOutputChannel: output,
  };
  client = new LanguageClient("podsec", "podsec", serverOptions, clientOptions);
  await client.start();
  context.subscriptions.push(client);
}

async function fixAllOnSave(event: vscode.TextDocumentWillSaveEvent): Promise<vscode.TextEdit[]> {
  const enabled = vscode.workspace.getConfiguration("podsec", event.document).get<boolean>("fixAllOnSave");
  if (!enabled || event.document.languageId !== "yaml" || !client) return [];
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
    "vscode.executeCodeActionProvider",
    event.document.uri,
    new vscode.Range(0, 0, 0, 0),
    FIX_ALL_KIND,
  );
  const edits: vscode.TextEdit[] = [];
  for (const action of actions ?? []) {
    if (action.kind?.value !== FIX_ALL_KIND || !action.edit) continue;
    for (const [uri, textEdits] of action.edit.entries()) {
      if (uri.toString() === event.document.uri.toString()) edits.push(...textEdits);
    }
  }
  return edits;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("podsec.restartServer", async () => {
      if (client) {
        await client.stop();
        client = undefined;
      }
      await start(context);
    }),
    vscode.workspace.onWillSaveTextDocument((event) => event.waitUntil(fixAllOnSave(event))),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      // A new binary needs a new process; level and version reach the running server by themselves.
      if (event.affectsConfiguration("podsec.path")) {
        await vscode.commands.executeCommand("podsec.restartServer");
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
}
