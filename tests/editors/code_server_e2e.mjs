// The VS Code extension in a real VS Code (code-server in headless Chromium, driven by playwright-core);
// started by tests/editors/code-server.sh, which installs the .vsix and serves the workspace.
// Checks: podsec's diagnostics (squiggles, and the check IDs in the Problems panel, also of a file that is
// never opened: workspace diagnostics), hover, the preferred quick fix (it must change the text exactly as
// `podsec fix -` does), the comment exemption as a snippet (the typed reason replaces the placeholder),
// that clicking the code lens above a Deployment shows its Namespace's enforce label, selected (the
// server's podsec.showLocation command, which the language client registers, and window/showDocument), and
// that the server is the bundled binary (the "podsec" output channel's log names it). A failure saves a
// screenshot.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PODSEC_PLAYWRIGHT);
const file = process.env.PODSEC_FILE;
const expected = fs.readFileSync(process.env.PODSEC_EXPECTED, "utf8");
const original = fs.readFileSync(file, "utf8");
const screenshots = process.env.PODSEC_SCREENSHOTS;
const started = Date.now();
let current = "start";

function step(name) {
  current = name;
  console.log(`code-server e2e: ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** Files under `dir` (recursively) whose name matches `pattern`. */
function findFiles(dir, pattern) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && pattern.test(entry.name)) found.push(path.join(entry.parentPath ?? entry.path, entry.name));
  }
  return found;
}

async function poll(what, probe, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
// Only loopback: anything else the workbench asks for is refused here, and listed.
const refused = [];
await page.route("**/*", (route) => {
  const { hostname } = new URL(route.request().url());
  if (["127.0.0.1", "localhost", "[::1]"].includes(hostname)) return route.continue();
  refused.push(route.request().url());
  return route.abort();
});

/** The notifications on screen must not be podsec's (an unknown setting, a missing binary). */
async function noPodsecNotification() {
  const toasts = (await page.locator(".notifications-toasts .notification-toast").allInnerTexts()).join("\n");
  assert.doesNotMatch(toasts, /podsec|unknown setting/i, `a notification: ${toasts}`);
}

/** Ctrl+. until `row` shows: the menu may not open while the editor is still taking a cursor move. */
async function openActionMenu(what, row) {
  await poll(what, async () => {
    await page.keyboard.press("Control+.");
    try {
      await row.waitFor({ timeout: 3000 });
      return true;
    } catch {
      await page.keyboard.press("Escape");
      return false;
    }
  });
}

try {
  step("open the workbench");
  await poll("code-server to listen", async () => {
    try {
      return (await fetch(new URL("/healthz", process.env.PODSEC_URL))).ok;
    } catch {
      return false;
    }
  });
  await page.goto(process.env.PODSEC_URL);
  await page.locator(".monaco-workbench .part.editor").waitFor({ timeout: 60000 });

  step("open the manifest from the explorer");
  const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: path.basename(file) });
  await row.waitFor({ timeout: 30000 });
  await row.dblclick();
  const editor = page.locator(".editor-instance .monaco-editor").first();
  await editor.locator(".view-lines", { hasText: "kind: Pod" }).waitFor({ timeout: 30000 });

  step("wait for podsec's squiggles");
  await editor.locator(".squiggly-error").first().waitFor({ timeout: 60000 });

  step("read the Problems panel");
  await page.keyboard.press("Control+Shift+M");
  const markers = page.locator(".markers-panel .monaco-list-row");
  await poll("two problems", async () => (await markers.count()) >= 3);
  const problems = await page.locator(".markers-panel").innerText();
  // Each problem's row: what is wrong at the field, then its source and code (the check ID, a link to the
  // standard). PSA's whole sentence is a related-information row of the object's first problem, which has
  // no source and code of its own.
  for (const [check, message] of [
    ["allowPrivilegeEscalation", 'container "app" must set securityContext.allowPrivilegeEscalation=false'],
    ["hostPorts", 'container "app" uses hostPort 8080'],
  ]) {
    const texts = await markers.filter({ hasText: message }).allInnerTexts();
    const own = texts.filter((text) => new RegExp(`\\bpodsec\\s+${check}\\b`).test(text));
    assert.equal(own.length, 1, `one problem of podsec's ${check} says ${message}:\n${problems}`);
  }

  step("the Problems panel lists a file that was never opened");
  const unopened = await poll("unopened.yaml's problems", async () => {
    const text = await page.locator(".markers-panel").innerText();
    return text.includes("unopened.yaml") && text.includes('container "tool" must not set securityContext.privileged=true')
      ? text
      : undefined;
  });
  assert.match(unopened, /unopened\.yaml/, unopened);

  step("the output channel names the bundled binary");
  const log = await poll("the podsec output channel's log", async () => {
    for (const candidate of findFiles(process.env.PODSEC_USER_DATA, /podsec\.log$/)) {
      const text = fs.readFileSync(candidate, "utf8");
      // The extension's own line, then the server's (window/logMessage goes to the same channel).
      if (text.includes("podsec ") && text.includes("podsec: diagnostics are")) return text;
    }
    return undefined;
  });
  assert.match(log, /podsec \d+\.\d+\.\d+: \S+\/extensions\/podsec\.podsec-[^/]+\/bin\/podsec \(the bundled binary\)/, log);
  // VS Code pulls diagnostics (and re-pulls on refresh): the server says which way they go.
  assert.match(log, /podsec: diagnostics are pulled by the client/, log);
  await noPodsecNotification();

  // The cursor on the container's name, where the missing allowPrivilegeEscalation is reported.
  const lines = original.split("\n");
  const lineIndex = lines.findIndex((line) => line.includes("- name: app"));
  const column = lines[lineIndex].indexOf("name") + 3;
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+G");
  await page.keyboard.type(`${lineIndex + 1}:${column}`);
  await page.keyboard.press("Enter");

  step("hover on allowPrivilegeEscalation");
  await page.keyboard.press("Control+K");
  await page.keyboard.press("Control+I");
  const hover = page.locator(".monaco-hover:not(.hidden) .monaco-hover-content").first();
  await hover.waitFor({ timeout: 15000 });
  const hoverText = await poll("podsec's hover", async () => {
    const text = await hover.innerText();
    return text.includes("allowPrivilegeEscalation") && text.includes("restricted") ? text : undefined;
  });
  assert.match(hoverText, /must set securityContext\.allowPrivilegeEscalation=false/, hoverText);
  await page.keyboard.press("Escape");

  step("Ctrl+. and the preferred quick fix");
  const menu = page.locator(".action-widget");
  await openActionMenu("the Ctrl+. menu", menu.locator(".monaco-list-row.action").first());
  const actions = await menu.locator(".monaco-list-row.action").allInnerTexts();
  const focused = await menu.locator(".monaco-list-row.action.focused").innerText();
  console.log(`code-server e2e: quick fixes offered: ${actions.map((a) => a.trim()).join(" | ")}; focused: ${focused.trim()}`);
  assert.doesNotMatch(focused, /unsafe|exempt/i, "the first quick fix is the safe, preferred one");
  await page.keyboard.press("Enter");
  await editor.locator(".view-lines", { hasText: "allowPrivilegeEscalation: false" }).waitFor({ timeout: 15000 });

  step("save, and compare with podsec fix -");
  await page.keyboard.press("Control+S");
  const saved = await poll("the fixed file on disk", async () => {
    const text = fs.readFileSync(file, "utf8");
    return text !== original ? text : undefined;
  });
  assert.equal(saved, expected, "the quick fix changed the text as `podsec fix -` does");
  await noPodsecNotification();

  // The hostPort finding is left (its fix is unsafe): exempt it with a comment. VS Code takes snippet
  // edits, so the placeholder reason is selected and what is typed replaces it.
  step("exempt the hostPort finding with a comment, typing its reason");
  const hostPortLine = saved.split("\n").findIndex((line) => line.includes("hostPort: 8080"));
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+G");
  await page.keyboard.type(`${hostPortLine + 1}:9`);
  await page.keyboard.press("Enter");
  const exempt = menu.locator(".monaco-list-row.action", { hasText: "with a comment (not deployed)" });
  await openActionMenu("the comment exemption in the Ctrl+. menu", exempt);
  await exempt.click();
  const reason = "the probe listens on the node";
  await editor.locator(".view-lines", { hasText: "TODO: reason" }).waitFor({ timeout: 15000 });
  await page.keyboard.type(reason);
  await page.keyboard.press("Escape");
  const exemption = `      hostPort: 8080  # podsec: exempt hostPorts -- ${reason}`;
  await editor.locator(".view-lines", { hasText: reason }).waitFor({ timeout: 15000 });
  step("the finding is gone");
  await poll("no podsec squiggle", async () => (await editor.locator(".squiggly-error, .squiggly-warning").count()) === 0);
  await page.keyboard.press("Control+S");
  const exempted = await poll("the exempted file on disk", async () => {
    const text = fs.readFileSync(file, "utf8");
    return text !== saved ? text : undefined;
  });
  assert.equal(exempted, saved.replace("      hostPort: 8080\n", `${exemption}\n`), "the comment, with the typed reason");

  // "Why this policy?": the lens above a Deployment names the Namespace label that decides its policy;
  // clicking it (podsec.showLocation: workspace/executeCommand, then the server's window/showDocument)
  // must show the Namespace's file with that label selected.
  step("open a Deployment in Namespace web");
  const workload = page.locator(".explorer-folders-view .monaco-list-row", { hasText: "web-api.yaml" });
  await workload.dblclick();
  // The active editor's tab: its label is the file's name.
  const activeTab = page.locator(".part.editor .tab.active").first();
  const activeTitle = async () => (await activeTab.getAttribute("aria-label", { timeout: 1000 }).catch(() => "")) ?? "";
  await poll("web-api.yaml in the editor", async () => (await activeTitle()) === "web-api.yaml");
  const lensEditor = page.locator(".editor-instance .monaco-editor").first();
  await lensEditor.locator(".view-lines", { hasText: "kind: Deployment" }).waitFor({ timeout: 15000 });

  step("click the code lens above the Deployment");
  const lens = lensEditor.locator(".codelens-decoration a", { hasText: 'Namespace "web"' });
  await lens.waitFor({ timeout: 20000 });
  const lensTitle = (await lens.innerText()).trim();
  console.log(`code-server e2e: the lens reads: ${lensTitle}`);
  assert.match(lensTitle, /^baseline:latest \(Namespace "web", enforce label/, lensTitle);
  await lens.click();

  step("the lens showed the enforce label in web-namespace.yaml");
  const namespaceFile = path.join(path.dirname(file), "web-namespace.yaml");
  const namespaceLines = fs.readFileSync(namespaceFile, "utf8").split("\n");
  const labelLine = namespaceLines.findIndex((line) => line.includes("pod-security.kubernetes.io/enforce:")) + 1;
  assert.ok(labelLine > 0, "the fixture's Namespace has an enforce label");
  // The status bar's "Ln L, Col C (N selected)": the cursor ends the selection, the N characters before it.
  // A click that does nothing leaves web-api.yaml active with no selection.
  const selection = page.locator(".statusbar-item[id='status.editor.selection']");
  const shown = await poll(
    "web-namespace.yaml with a selection on the enforce label's line",
    async () => {
      const tab = await activeTitle();
      const cursor = (await selection.innerText({ timeout: 1000 }).catch(() => "")).trim();
      const at = /^Ln (\d+), Col (\d+) \((\d+) selected\)/.exec(cursor);
      return /^web-namespace\.yaml\b/.test(tab) && at && Number(at[1]) === labelLine
        ? { tab, cursor, column: Number(at[2]), length: Number(at[3]) }
        : undefined;
    },
    15000,
  ).catch(async (error) => {
    const cursor = await selection.innerText({ timeout: 1000 }).catch(() => "?");
    throw new Error(`${error.message}: the active tab is ${await activeTitle()}, the status bar says ${cursor.trim()}`);
  });
  // The status bar counts characters (🚀 is one; the protocol's UTF-16 counts it as two), as Array.from does.
  const characters = Array.from(namespaceLines[labelLine - 1]);
  const selected = characters.slice(shown.column - 1 - shown.length, shown.column - 1).join("");
  console.log(`code-server e2e: the lens showed ${shown.tab} at ${shown.cursor}: ${JSON.stringify(selected)}`);
  assert.equal(selected, "pod-security.kubernetes.io/enforce: baseline", `the selection on line ${labelLine}`);
  await noPodsecNotification();

  fs.mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: path.join(screenshots, "last-ok.png") });
  if (refused.length > 0) console.log(`code-server e2e: refused non-loopback requests: ${refused.join(" ")}`);
  step("done");
} catch (error) {
  fs.mkdirSync(screenshots, { recursive: true });
  const shot = path.join(screenshots, `failure-${current.replace(/[^a-z0-9]+/gi, "-")}.png`);
  await page.screenshot({ path: shot }).catch(() => {});
  console.error(`code-server e2e: FAILED at "${current}": ${error.stack ?? error}\nscreenshot: ${shot}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
