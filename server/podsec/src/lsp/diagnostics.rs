//! Findings as LSP diagnostics.

use super::convert::{self, Encoding};
use super::settings::SyntaxErrors;
use podsec_engine::Analysis;
use podsec_engine::policy::Severity;
use ropey::Rope;
use serde_json::json;
use tower_lsp_server::ls_types::*;

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
    }
}

/// How diagnostics are written: the `podsec.syntaxErrors` setting, and the optional fields the client
/// says it supports (a client that does not show links is not sent them: Neovim 0.11 declares no
/// `codeDescriptionSupport`, and they were a fifth of a publication).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DiagnosticStyle {
    pub syntax_errors: SyntaxErrors,
    pub related_information: bool,
    pub code_description: bool,
    pub data: bool,
}

impl Default for DiagnosticStyle {
    /// As the protocol says of a client that declares nothing: no optional field.
    fn default() -> Self {
        Self {
            syntax_errors: SyntaxErrors::Report,
            related_information: false,
            code_description: false,
            data: false,
        }
    }
}

impl DiagnosticStyle {
    /// What a client declares for published diagnostics (`textDocument.publishDiagnostics`) or, when it
    /// pulls them, for pulls (`textDocument.diagnostic`).
    pub fn of_client(capabilities: &ClientCapabilities, pull: bool) -> Self {
        let text_document = capabilities.text_document.as_ref();
        let (related_information, code_description, data) = if pull {
            let pulled = text_document.and_then(|t| t.diagnostic.as_ref());
            (
                pulled.and_then(|d| d.related_information),
                pulled.and_then(|d| d.code_description_support),
                pulled.and_then(|d| d.data_support),
            )
        } else {
            let published = text_document.and_then(|t| t.publish_diagnostics.as_ref());
            (
                published.and_then(|d| d.related_information),
                published.and_then(|d| d.code_description_support),
                published.and_then(|d| d.data_support),
            )
        };
        Self {
            syntax_errors: SyntaxErrors::Report,
            related_information: related_information.unwrap_or(false),
            code_description: code_description.unwrap_or(false),
            data: data.unwrap_or(false),
        }
    }

    fn link(&self, href: impl FnOnce() -> Option<CodeDescription>) -> Option<CodeDescription> {
        if self.code_description { href() } else { None }
    }
}

/// The diagnostics of one analysis.
pub(super) fn diagnostics(
    analysis: &Analysis,
    rope: &Rope,
    encoding: Encoding,
    uri: &Uri,
    style: DiagnosticStyle,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for problem in &analysis.problems {
        let unreadable = matches!(problem.code, "syntax-error" | "limit-exceeded");
        let (level, message) = match (unreadable, style.syntax_errors) {
            (false, _) => (severity(problem.severity), problem.message.clone()),
            (true, SyntaxErrors::Report) => (
                severity(problem.severity),
                format!("{} (podsec did not check this document)", problem.message),
            ),
            (true, SyntaxErrors::Hint) => (
                DiagnosticSeverity::HINT,
                format!("{} (podsec did not check this document)", problem.message),
            ),
            (true, SyntaxErrors::Off) => (
                DiagnosticSeverity::INFORMATION,
                "podsec did not check this document: it is not valid YAML".to_string(),
            ),
        };
        // An error at a point underlines the character there, so editors show it.
        let mut span = problem.span;
        if span.start == span.end && span.end < rope.len_bytes() {
            let next = rope.byte_to_char(span.end) + 1;
            span.end = rope.char_to_byte(next.min(rope.len_chars()));
        }
        diagnostics.push(Diagnostic {
            range: convert::range(rope, span, encoding),
            severity: Some(level),
            code: Some(NumberOrString::String(problem.code.to_string())),
            code_description: style.link(|| problem_link(problem.code)),
            source: Some("podsec".to_string()),
            message,
            ..Diagnostic::default()
        });
    }
    diagnostics.extend(
        analysis
            .config_problems
            .iter()
            .map(|p| config_diagnostic(p, rope, encoding, style)),
    );
    for object in &analysis.objects {
        let header = convert::range(rope, object.header, encoding);
        // PSA's whole sentence goes once per object, on its first diagnostic (pointing at its `kind:`
        // line): on every diagnostic it made a publication grow as violations squared.
        let mut sentence = style.related_information.then(|| {
            object
                .messages()
                .into_iter()
                .map(|(mode, message)| DiagnosticRelatedInformation {
                    location: Location {
                        uri: uri.clone(),
                        range: header,
                    },
                    message: format!(
                        "{}: {message} [{}]",
                        object.display_name(),
                        object.line_source(mode).unwrap_or_default()
                    ),
                })
                .collect::<Vec<_>>()
        });
        // A rendered object's findings are in a chart's templates and values files: each names the object
        // and how it was rendered (a values line may feed several releases).
        let rendered = object
            .rendered
            .as_ref()
            .map(|how| format!(" [{} rendered by {how}]", object.display_name()));
        for violation in &object.violations {
            let href = style.link(|| {
                let href = violation.check.help_uri().parse::<Uri>().ok()?;
                Some(CodeDescription { href })
            });
            // The other modes at which this check fails too: one diagnostic names them all.
            let modes: Vec<&str> = object
                .failing_modes(violation.check.id)
                .into_iter()
                .map(|m| m.as_str())
                .collect();
            // A finding enforce admits is a warning or information: its message says which modes report it.
            let note = object
                .mode_note(violation)
                .map(|note| format!(" ({note})"))
                .unwrap_or_default();
            for location in &violation.locations {
                diagnostics.push(Diagnostic {
                    range: convert::range(rope, location.span, encoding),
                    severity: Some(severity(violation.severity())),
                    code: Some(NumberOrString::String(violation.check.id.to_string())),
                    code_description: href.clone(),
                    source: Some("podsec".to_string()),
                    // What is wrong at this field, for this container only: the check's ID is the code.
                    message: format!(
                        "{}{note}{}",
                        violation.message_at(location),
                        rendered.as_deref().unwrap_or_default()
                    ),
                    related_information: sentence.take().filter(|s| !s.is_empty()),
                    // Only when the check fails at more than one mode: a publication carries a thousand of these.
                    data: (style.data && modes.len() > 1).then(|| json!({ "modes": modes })),
                    ..Diagnostic::default()
                });
            }
        }
    }
    diagnostics
}

/// Where podsec's own diagnostics are documented: the section of the command-line reference for each kind.
fn problem_link(code: &str) -> Option<CodeDescription> {
    let section = match code {
        "syntax-error" | "limit-exceeded" | "not-sent" | "invalid-object" => {
            "what-podsec-reads-exactly-as-the-api-server-does"
        }
        "helm-template" | "helm-value" | "psp-removed" => "helm-kustomize-and-podsecuritypolicy",
        _ => "where-the-policy-comes-from",
    };
    format!("https://github.com/podsec/podsec/blob/main/docs/cli.md#{section}")
        .parse::<Uri>()
        .ok()
        .map(|href| CodeDescription { href })
}

/// A problem of a policy source (label, exemption, project file) as a diagnostic.
pub(super) fn config_diagnostic(
    problem: &podsec_engine::policy::ConfigProblem,
    rope: &Rope,
    encoding: Encoding,
    style: DiagnosticStyle,
) -> Diagnostic {
    Diagnostic {
        range: convert::range(rope, problem.span, encoding),
        severity: Some(severity(problem.severity)),
        code: Some(NumberOrString::String(problem.code.to_string())),
        code_description: style.link(|| problem_link(problem.code)),
        source: Some("podsec".to_string()),
        message: problem.message.clone(),
        ..Diagnostic::default()
    }
}

/// At most this many diagnostics are sent for one file: past it, an editor spends more time showing them
/// than anyone spends reading them (13,029 of them blocked Neovim a third of a second per keystroke).
pub(super) const MAX_DIAGNOSTICS: usize = 2_000;

/// `found`, bounded to [`MAX_DIAGNOSTICS`]: past it, the most severe first (errors, then warnings, then
/// the rest, each in file order), and one warning at the top of the file that says how many are shown
/// and where the rest are.
pub(super) fn bounded(mut found: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if found.len() <= MAX_DIAGNOSTICS {
        return found;
    }
    let total = found.len();
    let rank = |d: &Diagnostic| match d.severity {
        Some(DiagnosticSeverity::ERROR) => 0,
        Some(DiagnosticSeverity::WARNING) => 1,
        _ => 2,
    };
    found.sort_by_key(|d| (rank(d), d.range.start.line, d.range.start.character));
    found.truncate(MAX_DIAGNOSTICS - 1);
    // The report keeps this vector as long as the document is open: not the capacity of all of them.
    found.shrink_to_fit();
    let shown = found.len();
    let note = Diagnostic {
        range: Range::default(),
        severity: Some(DiagnosticSeverity::WARNING),
        code: Some(NumberOrString::String("too-many-diagnostics".to_string())),
        source: Some("podsec".to_string()),
        message: format!(
            "podsec shows {shown} of the {total} problems in this file: the most severe first (errors, then \
             warnings), each in file order; `podsec check` lists them all"
        ),
        ..Diagnostic::default()
    };
    found.insert(0, note);
    found
}
