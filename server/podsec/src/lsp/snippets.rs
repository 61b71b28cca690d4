//! LSP 3.18 snippet edits, which tower-lsp-server's types (ls-types 0.0.6) cannot express: neither the
//! client capability `workspace.workspaceEdit.snippetEditSupport` nor a `SnippetTextEdit` in a
//! `TextDocumentEdit`. This service sits between the framing and tower-lsp-server and does both on the
//! JSON: it reads the capability from `initialize`, and in `textDocument/codeAction` answers turns each
//! edit marked as a snippet into a `SnippetTextEdit` (`{range, snippet: {kind: "snippet", value}}`) for
//! a client that supports them, or into the plain edit it already is for one that does not.
//!
//! The mark is an `AnnotatedTextEdit` whose `annotationId` is [`marker`]`(start, end)`: its `newText` is
//! the plain text, and `start..end` (bytes in it) the placeholder the cursor should land on. The mark
//! never reaches a client: every code action answer passes through here.

use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_service::Service;

const MARKER_PREFIX: &str = "podsec.snippet:";

/// The `annotationId` that marks an edit as a snippet with its placeholder at `start..end` of `newText`.
pub(super) fn marker(start: usize, end: usize) -> String {
    format!("{MARKER_PREFIX}{start}:{end}")
}

/// The placeholder range a marker names, if it is one.
fn placeholder(annotation: &str) -> Option<(usize, usize)> {
    let (start, end) = annotation.strip_prefix(MARKER_PREFIX)?.split_once(':')?;
    Some((start.parse().ok()?, end.parse().ok()?))
}

/// Text as a snippet's literal text: `$`, `}` and `\` escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '$' | '}' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `text` as a snippet whose first tab stop selects `start..end` (`${1:…}`); `None` when that is not a
/// range of it.
fn snippet(text: &str, start: usize, end: usize) -> Option<String> {
    let before = text.get(..start)?;
    let selected = text.get(start..end)?;
    let after = text.get(end..)?;
    Some(format!(
        "{}${{1:{}}}{}",
        escape(before),
        escape(selected),
        escape(after)
    ))
}

/// Turns the marked edits of a code action answer into snippet edits, or plain ones.
fn finish(result: &mut Value, snippets: bool) {
    let Some(actions) = result.as_array_mut() else {
        return;
    };
    if snippets {
        // The snippet puts the cursor on the reason: the command that would select it is not needed.
        for action in actions.iter_mut() {
            let marked = action
                .pointer("/edit/documentChanges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|change| change.get("edits").and_then(Value::as_array))
                .flatten()
                .any(|edit| {
                    edit.get("annotationId")
                        .and_then(Value::as_str)
                        .and_then(placeholder)
                        .is_some()
                });
            if let (true, Some(action)) = (marked, action.as_object_mut()) {
                action.remove("command");
            }
        }
    }
    let edits = actions
        .iter_mut()
        .filter_map(|action| action.pointer_mut("/edit/documentChanges"))
        .filter_map(Value::as_array_mut)
        .flatten()
        .filter_map(|change| change.get_mut("edits"))
        .filter_map(Value::as_array_mut)
        .flatten();
    for edit in edits {
        let Some(object) = edit.as_object_mut() else {
            continue;
        };
        let Some(range) = object
            .get("annotationId")
            .and_then(Value::as_str)
            .and_then(placeholder)
        else {
            continue;
        };
        object.remove("annotationId");
        if !snippets {
            continue;
        }
        let text = object.get("newText").and_then(Value::as_str).unwrap_or("");
        if let Some(value) = snippet(text, range.0, range.1) {
            object.remove("newText");
            object.insert(
                "snippet".to_string(),
                json!({ "kind": "snippet", "value": value }),
            );
        }
    }
}

/// Wraps tower-lsp-server's service: see the module's documentation.
pub(super) struct SnippetEdits<S> {
    inner: S,
    /// Whether the client said `workspace.workspaceEdit.snippetEditSupport: true`.
    supported: bool,
}

impl<S> SnippetEdits<S> {
    pub(super) fn new(inner: S) -> Self {
        Self {
            inner,
            supported: false,
        }
    }
}

impl<S> Service<Request> for SnippetEdits<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() == "initialize" {
            self.supported = request
                .params()
                .and_then(|p| p.pointer("/capabilities/workspace/workspaceEdit/snippetEditSupport"))
                .and_then(Value::as_bool)
                == Some(true);
        }
        let code_actions = request.method() == "textDocument/codeAction";
        let snippets = self.supported;
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            if !code_actions {
                return Ok(response);
            }
            Ok(response.map(|response| {
                let (id, mut result) = response.into_parts();
                if let Ok(result) = &mut result {
                    finish(result, snippets);
                }
                Response::from_parts(id, result)
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "a test fails by panicking")]
    use super::*;

    #[test]
    fn a_marked_edit_becomes_a_snippet_or_stays_plain() {
        let text = "a: \"TODO: reason\" ${x} \\ {}";
        let start = text.find("TODO").unwrap_or(0);
        let answer = |annotation: &str| {
            json!([{ "title": "t", "edit": { "documentChanges": [{ "textDocument": { "uri": "file:///a", "version": 1 },
                "edits": [
                    { "range": {}, "newText": text, "annotationId": annotation },
                    { "range": {}, "newText": "plain" },
                ] }] } }])
        };
        let mut result = answer(&marker(start, start + "TODO: reason".len()));
        finish(&mut result, true);
        let edits = &result[0]["edit"]["documentChanges"][0]["edits"];
        assert_eq!(
            edits[0],
            json!({ "range": {}, "snippet": { "kind": "snippet", "value": "a: \"${1:TODO: reason}\" \\${x\\} \\\\ {\\}" } })
        );
        assert_eq!(edits[1], json!({ "range": {}, "newText": "plain" }));
        let mut result = answer(&marker(start, start + 4));
        finish(&mut result, false);
        assert_eq!(
            result[0]["edit"]["documentChanges"][0]["edits"][0],
            json!({ "range": {}, "newText": text })
        );
        // A marker that names no range of the text leaves the plain edit.
        let mut result = answer(&marker(3, 999));
        finish(&mut result, true);
        assert_eq!(
            result[0]["edit"]["documentChanges"][0]["edits"][0],
            json!({ "range": {}, "newText": text })
        );
    }
}
