// The VS Code client of the podsec language server: it starts `podsec lsp` on YAML files (the binary of
// `podsec.path`, the one bundled in a platform-specific .vsix, or `podsec` on PATH, by
// `podsec.serverStrategy`), passes the settings, restarts on demand and can apply the safe fixes on save.
// All analysis happens in the server.

import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import {
  FIX_ALL_KIND,
  INSTALL_URL,
  SERVER_ARGS,
  initializationOptions,
  missingServerMessage,
  resolveServer,
  serverDescription,
} from "./server";

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

function settings() {
  const config = vscode.workspace.getConfiguration("podsec");
  return {
    path: config.get<string>("path"),
    serverStrategy: config.get<string>("serverStrategy"),
    level: config.get<string>("level"),
    version: config.get<string>("version"),
    helm: config.get<string>("helm"),
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const current = settings();
  output ??= vscode.window.createOutputChannel("podsec", { log: true });
  const resolution = resolveServer({
    configuredPath: current.path,
    strategy: current.serverStrategy,
    extensionPath: context.extensionPath,
    envPath: process.env.PATH,
  });
  if (!resolution.ok) {
    const message = missingServerMessage(resolution);
    output.error(message);
    const choice = await vscode.window.showErrorMessage(message, "How to install");
    if (choice) await vscode.env.openExternal(vscode.Uri.parse(INSTALL_URL));
    return;
  }
  const { command, source } = resolution;
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
  output.info(serverDescription(command, source, client.initializeResult?.serverInfo));
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
      if (event.affectsConfiguration("podsec.path") || event.affectsConfiguration("podsec.serverStrategy")) {
        await vscode.commands.executeCommand("podsec.restartServer");
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
}
