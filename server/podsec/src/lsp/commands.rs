//! `workspace/executeCommand`: the server's own commands, which every client runs the same way (VS Code's
//! language client registers the commands the server lists; Neovim sends a command it has no handler
//! for to the server that lists it), so no client needs code of its own for them.
//!
//! `podsec.showLocation {uri, range}` asks the client to show `uri` with `range` selected
//! (`window/showDocument`): the lenses jump to the source of an object's policy with it, and an
//! exemption action puts the cursor on its placeholder reason with it where the client takes no snippet
//! edits (Neovim).

use serde_json::{Value, json};
use tower_lsp_server::ls_types::*;

/// The one command: show a location, selected.
pub(super) const SHOW_LOCATION: &str = "podsec.showLocation";

/// The commands the server runs (`executeCommandProvider.commands`).
pub(super) fn all() -> Vec<String> {
    vec![SHOW_LOCATION.to_string()]
}

/// A command that shows `range` of `uri`, titled `title`.
pub(super) fn show_location(title: impl Into<String>, uri: &Uri, range: Range) -> Command {
    Command {
        title: title.into(),
        command: SHOW_LOCATION.to_string(),
        arguments: Some(vec![json!({ "uri": uri, "range": range })]),
    }
}

/// What `workspace/executeCommand` asks the client to show, or why it cannot.
pub(super) fn show_document_params(params: &ExecuteCommandParams) -> Result<ShowDocumentParams, String> {
    if params.command != SHOW_LOCATION {
        return Err(format!("unknown command {:?}", params.command));
    }
    let argument = params.arguments.first().cloned().unwrap_or(Value::Null);
    let location: Location = serde_json::from_value(argument)
        .map_err(|e| format!("{SHOW_LOCATION} takes one argument {{uri, range}}: {e}"))?;
    Ok(ShowDocumentParams {
        uri: location.uri,
        external: None,
        take_focus: Some(true),
        selection: Some(location.range),
    })
}
