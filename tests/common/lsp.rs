//! A minimal LSP client for end-to-end tests: spawns the real `podsec lsp`, frames JSON-RPC by hand over
//! its stdio, records every message the server sends, and waits for expected ones with a timeout (no
//! fixed sleeps).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct LspClient {
    pub child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Every message received so far, in order.
    pub received: Vec<Value>,
    /// Received messages no wait has matched yet, in order.
    unmatched: std::collections::VecDeque<Value>,
    /// The diagnostics of the last publication received for each URI (kept by [`LspClient::forget`]).
    last_published: std::collections::HashMap<String, Value>,
    next_id: i64,
    /// Publications are summarised, not built (see [`Publication`]).
    light: Arc<AtomicBool>,
}

/// A publishDiagnostics as a benchmark's client reads it in [`LspClient::light_publications`] mode: its
/// document, version and number of diagnostics, each diagnostic checked as JSON but not built, so that
/// the client does not compete with the server for the machine's cores.
#[derive(serde::Deserialize)]
struct Publication {
    method: String,
    params: PublicationParams,
}

#[derive(serde::Deserialize)]
struct PublicationParams {
    uri: String,
    version: Option<i64>,
    diagnostics: Vec<serde::de::IgnoredAny>,
}

/// The message in `body`: in light mode, a publication summarised as `{method, params: {uri, version,
/// diagnosticCount, bytes}}`.
fn parse_message(body: &[u8], light: bool) -> Option<Value> {
    // Only a publication has `params.diagnostics`: any other message fails this parse and is read whole.
    if let Some(publication) = light
        .then(|| serde_json::from_slice::<Publication>(body).ok())
        .flatten()
    {
        let params = publication.params;
        return Some(json!({
            "method": publication.method,
            "params": { "uri": params.uri, "version": params.version,
                        "diagnosticCount": params.diagnostics.len(), "bytes": body.len() },
        }));
    }
    serde_json::from_slice(body).ok()
}

fn read_message(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

impl LspClient {
    pub fn spawn() -> Self {
        Self::spawn_with_env(&[])
    }

    /// [`LspClient::spawn`], with these environment variables set for the server.
    pub fn spawn_with_env(env: &[(&str, &std::ffi::OsStr)]) -> Self {
        // PODSEC_LSP_BIN: another build of the server (a benchmark comparing two commits, alternately).
        let binary =
            std::env::var_os("PODSEC_LSP_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_podsec").into());
        let mut child = Command::new(binary)
            .envs(env.iter().copied())
            .args(["lsp", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("podsec lsp starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = channel();
        let light = Arc::new(AtomicBool::new(false));
        let light_reader = Arc::clone(&light);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(body) = read_message(&mut reader) {
                let Some(message) = parse_message(&body, light_reader.load(Ordering::SeqCst)) else {
                    continue;
                };
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            incoming,
            received: Vec::new(),
            unmatched: Default::default(),
            last_published: Default::default(),
            next_id: 1,
            light,
        }
    }

    pub fn send_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        stdin.write_all(body).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, message: &Value) {
        self.send_raw(&serde_json::to_vec(message).unwrap());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its id.
    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// Sends a request and waits for its response (the whole response object).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        self.wait_for(|m| m["id"] == id && m.get("method").is_none())
    }

    /// Waits for the first message (received from now on, or already received and not yet matched by
    /// an earlier wait) that satisfies `predicate`. Requests from the server are answered with `null`.
    pub fn wait_for(&mut self, predicate: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(&predicate, TIMEOUT).unwrap_or_else(|| {
            panic!(
                "no matching message within {TIMEOUT:?}; received: {:#?}",
                self.received
            )
        })
    }

    pub fn try_wait_for(&mut self, predicate: &impl Fn(&Value) -> bool, timeout: Duration) -> Option<Value> {
        if let Some(index) = self.unmatched.iter().position(predicate) {
            return self.unmatched.remove(index);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            };
            if message.get("method").is_some() && message.get("id").is_some() {
                let id = message["id"].clone();
                self.send(&json!({ "jsonrpc": "2.0", "id": id, "result": null }));
            }
            if message["method"] == "textDocument/publishDiagnostics" {
                if let Some(uri) = message["params"]["uri"].as_str() {
                    let diagnostics = message["params"]["diagnostics"].clone();
                    self.last_published.insert(uri.to_string(), diagnostics);
                }
            }
            self.received.push(message.clone());
            if predicate(&message) {
                return Some(message);
            }
            self.unmatched.push_back(message);
        }
    }

    /// The diagnostics of `uri` at `version`, its latest: those published for that version, or, as the
    /// server publishes nothing that would repeat the last publication, those it answers a pull with
    /// (which waits for the analysis of the latest version).
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let response = self.request(
            "textDocument/diagnostic",
            json!({ "textDocument": { "uri": uri } }),
        );
        let pulled = response["result"]["items"].as_array().cloned();
        let published = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        };
        let pulled = pulled.unwrap_or_else(|| panic!("no diagnostics for {uri} at {version}: {response}"));
        if let Some(index) = self.unmatched.iter().position(published) {
            let message = self.unmatched.remove(index).unwrap();
            return message["params"]["diagnostics"].as_array().unwrap().clone();
        }
        // The last publication received for `uri`: when the pulled diagnostics differ from it, the
        // server publishes them (for this version), maybe after answering the pull.
        if self.last_published.get(uri).and_then(Value::as_array) == Some(&pulled) {
            return pulled;
        }
        let message = self.wait_for(published);
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    /// The server process's resident memory (VmRSS), in KiB: for the memory benchmarks.
    pub fn resident_kib(&self) -> u64 {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Receives (answering the server's requests) until nothing has come for `quiet`, then gives the
    /// diagnostics of the last publication for `uri`: what a client that was pushed them holds.
    pub fn published_once_quiet(&mut self, uri: &str, quiet: Duration) -> Option<Value> {
        while self.try_wait_for(&|_| true, quiet).is_some() {}
        self.last_published.get(uri).cloned()
    }

    /// From now on, publishDiagnostics are summarised (see [`Publication`]): for benchmarks, which wait
    /// for publications with [`LspClient::publication_count`].
    pub fn light_publications(&mut self) {
        self.light.store(true, Ordering::SeqCst);
    }

    /// In light mode: waits for the publication of `uri` at `version`, and returns its number of
    /// diagnostics.
    pub fn publication_count(&mut self, uri: &str, version: i64) -> usize {
        let message = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        message["params"]["diagnosticCount"].as_u64().unwrap_or_default() as usize
    }

    /// Every publishDiagnostics received for `uri`, in order.
    /// Forgets what was received so far (long benchmarks would otherwise keep every message).
    pub fn forget(&mut self) {
        self.received.clear();
        self.unmatched.clear();
    }

    pub fn publications(&self, uri: &str) -> Vec<Value> {
        self.received
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri)
            .map(|m| m["params"].clone())
            .collect()
    }

    pub fn initialize(&mut self, encodings: Option<&[&str]>, options: Value) -> Value {
        // What VS Code declares for diagnostics: related information, links and data.
        let mut capabilities = json!({ "textDocument": {
            "hover": { "contentFormat": ["markdown"] },
            "publishDiagnostics": { "relatedInformation": true, "codeDescriptionSupport": true, "dataSupport": true },
        } });
        if let Some(encodings) = encodings {
            capabilities["general"] = json!({ "positionEncodings": encodings });
        }
        self.initialize_with(capabilities, options)
    }

    /// `initialize` with these client capabilities, then `initialized`.
    pub fn initialize_with(&mut self, capabilities: Value, options: Value) -> Value {
        let response = self.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": capabilities, "initializationOptions": options }),
        );
        self.notify("initialized", json!({}));
        response
    }

    pub fn open(&mut self, uri: &str, text: &str, version: i64) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "yaml", "version": version, "text": text } }),
        );
    }

    pub fn change(&mut self, uri: &str, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": changes }),
        );
    }

    /// Closes stdin and waits for the process to end.
    pub fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn shutdown_and_exit(mut self) -> std::process::ExitStatus {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        self.notify("exit", Value::Null);
        self.finish()
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The byte offset of an LSP position (UTF-16 columns) in `text`, as a client computes it.
pub fn utf16_offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let character = position["character"].as_u64().unwrap() as usize;
    let mut offset = 0;
    for (index, chunk) in text.split_inclusive('\n').enumerate() {
        if index == line {
            let mut units = 0;
            for (byte, c) in chunk.char_indices() {
                if units >= character || c == '\n' || c == '\r' {
                    return offset + byte;
                }
                units += c.len_utf16();
            }
            return offset + chunk.len();
        }
        offset += chunk.len();
    }
    text.len()
}

/// Applies the edits of a `WorkspaceEdit`'s first `TextDocumentEdit` to `text`, as a client would.
pub fn apply_workspace_edit(text: &str, edit: &Value) -> String {
    let edits = edit["documentChanges"][0]["edits"].as_array().unwrap();
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                utf16_offset(text, &e["range"]["start"]),
                utf16_offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut out = text.to_string();
    for (start, end, replacement) in spans {
        out.replace_range(start..end, &replacement);
    }
    out
}

/// A fresh directory holding `files` (path, text), for a workspace folder; `name` keeps tests apart.
pub fn workspace_dir(name: &str, files: &[(&str, impl AsRef<str>)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("podsec-ws-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.as_ref()).unwrap();
    }
    dir
}

/// The `file:` URI of `path`, as the server's tests name files.
pub fn file_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}
