//! Helm: chart templates (YAML with Go template actions `{{ … }}`) and rendered output (`helm template`,
//! whose documents name their template in `# Source:` comments).
//!
//! A template is not YAML until it is rendered. podsec neutralises the actions without moving a byte: an
//! action alone on its line becomes a comment, an action inside a line becomes a placeholder of the same
//! length (`x`, its number, then `x`s: a plain scalar unique to that action), so every span still points
//! into the template and every message can name the action again. A document whose actions
//! insert YAML (`toYaml`, `include`, `tpl`, `template`, `.Files`, `indent`) has a structure podsec cannot
//! know: it is skipped with one information message instead of guessed at.

/// The actions that produce YAML structure rather than a scalar.
const STRUCTURAL: &[&str] = &[
    "toYaml",
    "include",
    "tpl",
    "template ",
    ".Files",
    "indent",
    "toJson",
];

/// A template with its actions neutralised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neutralised {
    /// The text, byte for byte as long as the template, with every action replaced.
    pub text: String,
    /// Byte offsets of structural actions (a document holding one is skipped).
    pub structural: Vec<usize>,
    /// Each inline placeholder and the action it stands for, to put the action back into messages.
    pub inline: Vec<(String, String)>,
    /// Where each inline placeholder stands: a value written there is known only once rendered.
    pub inline_spans: Vec<crate::yaml::Span>,
}

impl Neutralised {
    /// The action whose placeholder lies inside `span`, if any.
    pub fn action_within(&self, span: crate::yaml::Span) -> Option<&str> {
        self.inline_spans
            .iter()
            .zip(&self.inline)
            .find(|(at, _)| span.start <= at.start && at.end <= span.end)
            .map(|(_, (_, action))| action.as_str())
    }

    /// `message` with every placeholder replaced by the template action it stands for.
    pub fn restore(&self, message: &str) -> String {
        let mut restored = message.to_string();
        // Every placeholder starts with `x` and a digit; most messages hold none, and this runs for every
        // message of a chart file's objects on every keystroke.
        let may_hold_one = message
            .as_bytes()
            .windows(2)
            .any(|pair| matches!(pair, [b'x', digit] if digit.is_ascii_digit()));
        if !may_hold_one {
            return restored;
        }
        // Longest first, so that a placeholder never matches inside a longer one.
        let mut inline: Vec<&(String, String)> = self.inline.iter().collect();
        inline.sort_by_key(|(placeholder, _)| std::cmp::Reverse(placeholder.len()));
        for (placeholder, action) in inline {
            if restored.contains(placeholder.as_str()) {
                restored = restored.replace(placeholder.as_str(), action);
            }
        }
        restored
    }
}

/// Whether `text` has Go template actions.
pub fn is_template(text: &str) -> bool {
    text.contains("{{")
}

/// Replaces every `{{ … }}` action so that the text parses as the YAML around it.
pub fn neutralise(text: &str) -> Neutralised {
    let mut out = String::with_capacity(text.len());
    let mut structural = Vec::new();
    let mut inline = Vec::new();
    let mut inline_spans = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let before = rest.get(..open).unwrap_or("");
        out.push_str(before);
        let action_start = offset + open;
        let after = rest.get(open..).unwrap_or("");
        let Some(close) = action_end(after) else {
            // An unclosed `{{` is no action (Helm refuses such a template): it stays text, as YAML reads
            // it, instead of hiding what follows.
            out.push_str("{{");
            offset = action_start + 2;
            rest = after.get(2..).unwrap_or("");
            continue;
        };
        let action = after.get(..close).unwrap_or(after);
        // Alone on its line (only spaces before it, nothing but spaces after it): a comment.
        let line_start = text
            .get(..action_start)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let alone_before = text
            .get(line_start..action_start)
            .is_some_and(|t| t.trim().is_empty());
        let after_action = after.get(close..).unwrap_or("");
        let alone_after = after_action
            .split('\n')
            .next()
            .is_some_and(|t| t.trim().is_empty());
        // An include in a value (`name: {{ include "x" . }}`) is a scalar; alone on its line, or indented
        // into place, it is YAML structure.
        let inserts_yaml = (alone_before && alone_after) || action.contains("indent");
        if inserts_yaml && STRUCTURAL.iter().any(|s| action.contains(s)) {
            structural.push(action_start);
        }
        // A key whose value the action writes as a block (`labels: {{- include "x" . | nindent 4 }}`, lines
        // of its own may follow): a comment too, so that the key holds what is indented under it.
        let block_after_key = alone_after
            && action.contains("nindent")
            && text
                .get(line_start..action_start)
                .is_some_and(|t| t.ends_with(' ') && t.trim_end().ends_with(':'));
        let comment = (alone_before && alone_after) || block_after_key;
        // A placeholder is `x`, the action's number, then `x`s: two actions of the same length never
        // share one, so a message names the right action again.
        let tag = format!("x{}", inline.len() + 1);
        let mut tag = tag.bytes();
        let mut first = true;
        let replaced_from = out.len();
        for c in action.chars() {
            if matches!(c, '\n' | '\r') {
                out.push(c);
                continue;
            }
            // Keep the byte length: a multi-byte character becomes as many one-byte ones.
            for _ in 0..c.len_utf8() {
                let replacement = match () {
                    _ if comment && first => '#',
                    _ if comment => ' ',
                    _ => tag.next().map_or('x', char::from),
                };
                first = false;
                out.push(replacement);
            }
        }
        if !comment {
            let placeholder = out.get(replaced_from..).unwrap_or("").to_string();
            inline_spans.push(crate::yaml::Span::new(replaced_from, out.len()));
            inline.push((placeholder, action.to_string()));
        }
        offset = action_start + action.len();
        rest = after.get(close..).unwrap_or("");
    }
    out.push_str(rest);
    Neutralised {
        text: out,
        structural,
        inline,
        inline_spans,
    }
}

/// The texts a template's branches give, each as long as the template: the first branch of every
/// `if`/`with`/`range` that has an `else` (the later branches set aside as comments), then, when there
/// is any `else`, the last branch of each instead. Without them, two branches that both write
/// `securityContext:` would be one mapping with a duplicate key, and only the last would be seen.
/// Only actions alone on their line open, divide and close blocks; a template without `else` gives
/// itself.
pub fn branch_variants(text: &str) -> Vec<String> {
    // Per block: the line ranges of its branches (by byte offsets of whole lines).
    struct Block {
        branches: Vec<(usize, usize)>,
        open_from: usize,
    }
    let mut stack: Vec<Block> = Vec::new();
    let mut divided: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        let Some(body) = trimmed
            .strip_prefix("{{")
            .and_then(|b| b.strip_suffix("}}"))
            .filter(|b| !b.contains("}}") && !b.contains("{{"))
        else {
            continue;
        };
        let word = body
            .trim_start_matches('-')
            .trim_end_matches('-')
            .split_whitespace()
            .next()
            .unwrap_or("");
        match word {
            "if" | "with" | "range" | "define" | "block" => stack.push(Block {
                branches: Vec::new(),
                open_from: offset,
            }),
            "else" => {
                if let Some(block) = stack.last_mut() {
                    block.branches.push((block.open_from, start));
                    block.open_from = offset;
                }
            }
            "end" => {
                if let Some(mut block) = stack.pop() {
                    if !block.branches.is_empty() {
                        block.branches.push((block.open_from, start));
                        divided.push(block.branches);
                    }
                }
            }
            _ => {}
        }
    }
    if divided.is_empty() {
        return vec![text.to_string()];
    }
    let set_aside = |keep_first: bool| {
        let mut bytes = text.as_bytes().to_vec();
        for branches in &divided {
            let kept = if keep_first { 0 } else { branches.len() - 1 };
            for (index, (from, to)) in branches.iter().enumerate() {
                if index != kept {
                    comment_out(&mut bytes, *from, *to);
                }
            }
        }
        // Only ASCII bytes were written, each over a whole character.
        String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
    };
    vec![set_aside(true), set_aside(false)]
}

/// Turns every line of `bytes[from..to]` into a comment of the same length: `#`, then spaces.
fn comment_out(bytes: &mut [u8], from: usize, to: usize) {
    let mut line_start = true;
    for byte in bytes.iter_mut().take(to).skip(from) {
        match *byte {
            b'\n' | b'\r' => line_start = true,
            _ if line_start => {
                *byte = b'#';
                line_start = false;
            }
            _ => *byte = b' ',
        }
    }
}

/// The length of the action at the start of `from` (which starts with `{{`), through its `}}`. An action
/// closes on its own line; only a comment (`{{/* … */}}`) may run over several, and not past a document
/// marker. Without this bound, a `{{` in plain text would pair with the `}}` of any later flow mapping
/// (`{a: {b: 1}}`) and hide everything between them.
fn action_end(from: &str) -> Option<usize> {
    let body = from.get(2..)?.trim_start_matches('-').trim_start();
    let reach = if body.starts_with("/*") {
        ["\n---", "\n..."]
            .iter()
            .filter_map(|marker| from.find(marker))
            .min()
            .unwrap_or(from.len())
    } else {
        from.find(['\n', '\r']).unwrap_or(from.len())
    };
    from.get(..reach)?.find("}}").map(|c| c + 2)
}

/// The template a rendered document came from: its `# Source: chart/templates/x.yaml` comment.
pub fn source_comment(document_text: &str) -> Option<&str> {
    document_text
        .lines()
        .take_while(|line| {
            line.trim().is_empty() || line.trim_start().starts_with('#') || line.starts_with("---")
        })
        .find_map(|line| line.trim_start().strip_prefix("# Source: "))
        .map(str::trim)
}

/// The `# Source:` comment of a document whose template starts with its own `---`: Helm writes the
/// comment, then the template's `---`, so the comment ends a document of comments before it.
pub fn source_before(text: &str, start: usize) -> Option<&str> {
    let before = text.get(..start)?;
    before
        .lines()
        .rev()
        .take_while(|line| {
            line.trim().is_empty() || line.trim_start().starts_with('#') || line.starts_with("---")
        })
        .find_map(|line| line.trim_start().strip_prefix("# Source: "))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_written_after_a_key_leaves_the_key_its_indented_lines() {
        let template = "metadata:\n  labels: {{- include \"l\" . | nindent 4 }}\n    extra: yes\nkind: Pod\n";
        let neutral = neutralise(template);
        assert_eq!(neutral.text.len(), template.len());
        assert!(neutral.text.contains("  labels: #"));
        let limits = crate::yaml::Limits::default();
        let document = crate::yaml::documents(&neutral.text, &limits).next();
        assert!(document.as_ref().is_some_and(|d| d.error.is_none()));
        let extra = document
            .as_ref()
            .and_then(|d| d.root())
            .and_then(|r| r.get("metadata"))
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.get("extra"))
            .and_then(|e| e.as_str());
        assert_eq!(extra, Some("yes"));
    }

    #[test]
    fn a_templates_own_separator_keeps_its_source() {
        let rendered = "---\n# Source: web/templates/a.yaml\nkind: A\n---\n# Source: web/templates/b.yaml\n---\nkind: B\n";
        let b = rendered.rfind("kind: B").unwrap_or(0);
        assert_eq!(source_before(rendered, b), Some("web/templates/b.yaml"));
        let a = rendered.find("kind: A").unwrap_or(0);
        assert_eq!(source_before(rendered, a), Some("web/templates/a.yaml"));
        // Past an object's content, no comment above it is its source.
        let after = rendered.find("---\n# Source: web/templates/b").unwrap_or(0);
        assert_eq!(source_before(rendered, after), None);
    }

    #[test]
    fn actions_are_neutralised_without_moving_a_byte() {
        let template = "spec:\n  {{- if .Values.on }}\n  image: \"{{ .Values.image }}\"\n  name: {{ .Release.Name }}-ü\n  {{- end }}\n";
        let neutral = neutralise(template);
        assert_eq!(neutral.text.len(), template.len());
        assert_eq!(
            neutral.text,
            "spec:\n  #                   \n  image: \"x1xxxxxxxxxxxxxxxxx\"\n  name: x2xxxxxxxxxxxxxxxxx-ü\n  #         \n"
        );
        assert!(neutral.structural.is_empty());
        let structural = neutralise("spec:\n  {{- toYaml .Values.podSecurityContext | nindent 2 }}\n");
        assert_eq!(structural.structural.len(), 1);
        let scalar = neutralise("metadata:\n  name: {{ include \"web.fullname\" . }}\n");
        assert!(scalar.structural.is_empty());
    }

    #[test]
    fn an_unclosed_action_stays_text() {
        // Found by fuzzing: an unclosed `{{` hid the rest of the file, so a fix appended after it broke it.
        let template = "a: {{ .Values.x }}\nb: c {{# d\ne: [{f: 1}}]\n{{/* a\ncomment */}}\n";
        let neutral = neutralise(template);
        assert_eq!(
            neutral.text,
            "a: x1xxxxxxxxxxxxx\nb: c {{# d\ne: [{f: 1}}]\n#     \n            \n"
        );
    }

    #[test]
    fn each_branch_of_an_else_is_a_variant_of_its_own() {
        let template = "spec:\n  {{- if .Values.a }}\n  securityContext: {runAsUser: 0}\n  {{- else }}\n  securityContext: {runAsUser: 1000}\n  {{- end }}\n";
        let variants = branch_variants(template);
        let commented = |line: &str| format!("#{}", " ".repeat(line.len() - 1));
        let first = "  securityContext: {runAsUser: 0}";
        let last = "  securityContext: {runAsUser: 1000}";
        assert_eq!(
            variants,
            [
                template.replace(last, &commented(last)),
                template.replace(first, &commented(first)),
            ]
        );
        assert_eq!(
            branch_variants("a: {{ if .x }}1{{ else }}2{{ end }}\n"),
            ["a: {{ if .x }}1{{ else }}2{{ end }}\n"]
        );
    }

    #[test]
    fn rendered_documents_name_their_template() {
        assert_eq!(
            source_comment("---\n# Source: web/templates/deployment.yaml\napiVersion: v1\n"),
            Some("web/templates/deployment.yaml")
        );
        assert_eq!(source_comment("apiVersion: v1\n# Source: late.yaml\n"), None);
    }
}
