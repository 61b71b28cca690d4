//! Helm: chart templates (YAML with Go template actions `{{ … }}`) and rendered output (`helm template`,
//! whose documents name their template in `# Source:` comments).
//!
//! A template is not YAML until it is rendered. podsec neutralises the actions without moving a byte: an
//! action alone on its line becomes blank, one that writes YAML after a key a comment, an action inside a line becomes a placeholder of the same
//! length (`x`, its number, then `x`s: a plain scalar unique to that action), so every span still points
//! into the template and every message can name the action again. An action that inserts YAML
//! (`toYaml`, `include`, `tpl`, `template`, `.Files`, `indent`) writes a structure podsec cannot know:
//! the analysis reads the literal fields around it, and takes what is missing where it writes as
//! depending on values (see `analysis::template`).

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
    /// Byte offsets of structural actions: where YAML of unknown shape is written.
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

/// The column at which the structural action at `at` writes its YAML: the `nindent`/`indent` it is piped
/// through (the last one), else the column it stands at.
pub fn insertion_column(template: &str, at: usize) -> usize {
    let action = action_at(template, at);
    let indent = action.rfind("indent").and_then(|found| {
        let digits: String = action
            .get(found + "indent".len()..)?
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<usize>().ok()
    });
    indent.unwrap_or_else(|| {
        let line_start = template
            .get(..at)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        at.saturating_sub(line_start)
    })
}

/// The text of the action that starts at `at`, through its `}}`.
pub fn action_at(template: &str, at: usize) -> &str {
    let rest = template.get(at..).unwrap_or("");
    action_end(rest).and_then(|end| rest.get(..end)).unwrap_or(rest)
}

/// Whether `text` has Go template actions.
pub fn is_template(text: &str) -> bool {
    text.contains("{{")
}

/// Whether `line` holds nothing but actions and spaces.
fn only_actions(line: &str) -> bool {
    let mut rest = line;
    loop {
        rest = rest.trim();
        if rest.is_empty() {
            return true;
        }
        let Some(next) = rest
            .strip_prefix("{{")
            .and_then(|r| r.find("}}").and_then(|end| r.get(end + 2..)))
        else {
            return false;
        };
        rest = next;
    }
}

/// The starts of the lines that come before the first line of text of a block scalar (`|`, `>-` …),
/// read by indentation: an action alone on such a line is a comment, not blank (a blank line more
/// indented than the scalar's text would set its indentation, and end it at its first line).
fn leading_block_lines(text: &str) -> Vec<usize> {
    let mut leading = Vec::new();
    // The indentation of the line that opened the block scalar, and whether its text has started.
    let mut block: Option<(usize, bool)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim();
        let indent = line.len() - line.trim_start_matches(' ').len();
        let only_actions = content.starts_with("{{") && content.ends_with("}}");
        if let Some((opener, started)) = &mut block {
            if content.is_empty() || (only_actions && !*started) {
                if !*started {
                    leading.push(start);
                }
                continue;
            }
            if indent > *opener {
                *started = true;
                continue;
            }
            block = None;
        }
        let value = content.split(" #").next().unwrap_or("").trim_end();
        let header = value
            .rsplit(' ')
            .next()
            .filter(|_| value.contains(": ") || value.starts_with("- "))
            .unwrap_or("");
        let opens = header
            .strip_prefix(['|', '>'])
            .is_some_and(|rest| rest.chars().all(|c| matches!(c, '-' | '+') || c.is_ascii_digit()));
        if opens {
            block = Some((indent, false));
        }
    }
    leading
}

/// Replaces every `{{ … }}` action so that the text parses as the YAML around it.
pub fn neutralise(text: &str) -> Neutralised {
    let leading = leading_block_lines(text);
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
        // (Other actions may share the line: `{{- if .x }}{{ $a = 1 }}{{- end }}` is a line of actions.)
        let alone_before = text.get(line_start..action_start).is_some_and(only_actions);
        let after_action = after.get(close..).unwrap_or("");
        let alone_after = after_action.split('\n').next().is_some_and(only_actions);
        // An include in a value (`name: {{ include "x" . }}`) is a scalar; alone on its line, or indented
        // into place, it is YAML structure.
        let inserts_yaml = (alone_before && alone_after) || action.contains("indent");
        let is_structural = inserts_yaml && STRUCTURAL.iter().any(|s| action.contains(s));
        if is_structural {
            structural.push(action_start);
        }
        // Alone on its line: blank (a comment could end a block scalar it stands in, less indented than
        // the script around it). Ending a line after a key (`labels: {{- include "x" . | nindent 4 }}`,
        // which literal entries may follow, indented under the key): a comment, so that the key's value
        // is what is written under it, not a scalar.
        let comment = alone_after && (alone_before || is_structural);
        // A comment starts after a space: `key:{{- … }}` becomes `key: #…`; a blank line has none.
        let hash_at = if alone_before {
            if leading.binary_search(&line_start).is_ok() {
                0
            } else {
                usize::MAX
            }
        } else {
            usize::from(!text.get(..action_start).is_some_and(|t| t.ends_with([' ', '\t'])))
        };
        let mut position = 0;
        // A placeholder is `x`, the action's number, then `x`s: two actions of the same length never
        // share one, so a message names the right action again.
        let tag = format!("x{}", inline.len() + 1);
        let mut tag = tag.bytes();
        let replaced_from = out.len();
        for c in action.chars() {
            if matches!(c, '\n' | '\r') {
                out.push(c);
                continue;
            }
            // Keep the byte length: a multi-byte character becomes as many one-byte ones.
            for _ in 0..c.len_utf8() {
                let replacement = match () {
                    _ if comment && position == hash_at => '#',
                    _ if comment => ' ',
                    _ => tag.next().map_or('x', char::from),
                };
                position += 1;
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
/// Only actions alone on their line open, divide and close blocks; the bodies of `define`s are set
/// aside in every text (they are written where they are included); a template without `else` or
/// `define` gives itself.
pub fn branch_variants(text: &str) -> Vec<String> {
    // Per block: the line ranges of its branches (by byte offsets of whole lines).
    struct Block {
        branches: Vec<(usize, usize)>,
        open_from: usize,
    }
    let mut stack: Vec<Block> = Vec::new();
    let mut divided: Vec<Vec<(usize, usize)>> = Vec::new();
    // The bodies of `define`s: named templates, written where they are included, never where they are
    // defined (a helper's JSON or YAML before a document would read as part of it).
    let mut defined: Vec<(usize, usize)> = Vec::new();
    let mut define_depth: Vec<bool> = Vec::new();
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
            "if" | "with" | "range" | "define" | "block" => {
                define_depth.push(word == "define");
                stack.push(Block {
                    branches: Vec::new(),
                    open_from: offset,
                });
            }
            "else" => {
                if let Some(block) = stack.last_mut() {
                    block.branches.push((block.open_from, start));
                    block.open_from = offset;
                }
            }
            "end" => {
                let closes_define = define_depth.pop().unwrap_or(false);
                if let Some(mut block) = stack.pop() {
                    if closes_define {
                        defined.push((block.open_from, start));
                    } else if !block.branches.is_empty() {
                        block.branches.push((block.open_from, start));
                        divided.push(block.branches);
                    }
                }
            }
            _ => {}
        }
    }
    if divided.is_empty() && defined.is_empty() {
        return vec![text.to_string()];
    }
    let set_aside = |keep_first: bool| {
        let mut bytes = text.as_bytes().to_vec();
        for (from, to) in &defined {
            comment_out(&mut bytes, *from, *to);
        }
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
    if divided.is_empty() {
        return vec![set_aside(true)];
    }
    vec![set_aside(true), set_aside(false)]
}

/// Turns every line of `bytes[from..to]` into a comment of the same length: its indentation, `#`, then
/// spaces. The `#` stays at the line's indentation: inside a block scalar (a script with `{{ if }}` …
/// `{{ else }}`), a comment at column 0 would end the scalar and leave its other lines as broken YAML.
fn comment_out(bytes: &mut [u8], from: usize, to: usize) {
    let mut indentation = true;
    for byte in bytes.iter_mut().take(to).skip(from) {
        match *byte {
            b'\n' | b'\r' => indentation = true,
            b' ' if indentation => {}
            _ if indentation => {
                *byte = b'#';
                indentation = false;
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
            "spec:\n                      \n  image: \"x1xxxxxxxxxxxxxxxxx\"\n  name: x2xxxxxxxxxxxxxxxxx-ü\n            \n"
        );
        assert!(neutral.structural.is_empty());
        let structural = neutralise("spec:\n  {{- toYaml .Values.podSecurityContext | nindent 2 }}\n");
        assert_eq!(structural.structural.len(), 1);
        // After a key, at the end of its line: a comment, so that literal entries may follow under the key.
        let after_key =
            neutralise("labels: {{- include \"l\" . | nindent 2 }}\n  a: b\nc:{{ toYaml .d | nindent 2 }}\n");
        assert_eq!(
            after_key.text,
            format!("labels: #{}\n  a: b\nc: #{}\n", " ".repeat(31), " ".repeat(25))
        );
        assert_eq!(after_key.structural.len(), 2);
        assert!(after_key.inline.is_empty());
        // A line of actions only is blank.
        assert_eq!(
            neutralise("{{- if .a }}{{ $b = 1 }}{{- end }}\nkind: Pod\n").text,
            format!("{}\nkind: Pod\n", " ".repeat(34))
        );
        let scalar = neutralise("metadata:\n  name: {{ include \"web.fullname\" . }}\n");
        assert!(scalar.structural.is_empty());
    }

    #[test]
    fn a_structural_action_writes_at_its_indent_or_its_column() {
        let template = "spec:\n  securityContext: {{- toYaml .Values.sc | nindent 4 }}\n  {{ include \"x\" . }}\n{{ include \"y\" . | indent 6 }}\n";
        let at = |needle: &str| template.find(needle).unwrap();
        assert_eq!(insertion_column(template, at("{{- toYaml")), 4);
        assert_eq!(
            action_at(template, at("{{- toYaml")),
            "{{- toYaml .Values.sc | nindent 4 }}"
        );
        assert_eq!(insertion_column(template, at("{{ include \"x")), 2);
        assert_eq!(insertion_column(template, at("{{ include \"y")), 6);
    }

    #[test]
    fn an_action_alone_on_its_line_is_blank_unless_it_leads_a_block_scalar() {
        // Blank inside the script (a comment less indented than it would end it); a comment before its
        // first line (a blank line more indented than it would set its indentation).
        let template = "args:\n- |-\n  {{- if .a }}\n  echo a\n {{- end }}\n  echo b\n";
        let neutral = neutralise(template);
        assert_eq!(
            neutral.text,
            "args:\n- |-\n  #           \n  echo a\n           \n  echo b\n"
        );
        let limits = crate::yaml::Limits::default();
        let document = crate::yaml::documents(&neutral.text, &limits).next();
        let script = document
            .as_ref()
            .and_then(|d| d.root()?.get("args")?.items().next()?.as_str());
        assert_eq!(script, Some("#           \necho a\n         \necho b"));
        assert_eq!(
            leading_block_lines("a: |\n\n  {{ x }}\n  b\n  {{ y }}\nc: >+2 # note\n  {{ z }}\n  d\n"),
            [5, 6, 44]
        );
    }

    #[test]
    fn an_unclosed_action_stays_text() {
        // Found by fuzzing: an unclosed `{{` hid the rest of the file, so a fix appended after it broke it.
        let template = "a: {{ .Values.x }}\nb: c {{# d\ne: [{f: 1}}]\n{{/* a\ncomment */}}\n";
        let neutral = neutralise(template);
        assert_eq!(
            neutral.text,
            "a: x1xxxxxxxxxxxxx\nb: c {{# d\ne: [{f: 1}}]\n      \n            \n"
        );
    }

    #[test]
    fn each_branch_of_an_else_is_a_variant_of_its_own() {
        let template = "spec:\n  {{- if .Values.a }}\n  securityContext: {runAsUser: 0}\n  {{- else }}\n  securityContext: {runAsUser: 1000}\n  {{- end }}\n";
        let variants = branch_variants(template);
        let commented = |line: &str| format!("  #{}", " ".repeat(line.len() - 3));
        let first = "  securityContext: {runAsUser: 0}";
        let last = "  securityContext: {runAsUser: 1000}";
        assert_eq!(
            variants,
            [
                template.replace(last, &commented(last)),
                template.replace(first, &commented(first)),
            ]
        );
        // A helper's body is not written where it is defined.
        let helper = "{{- define \"x\" }}\n{\"a\": 1}\n{{- end }}\nkind: Pod\n";
        assert_eq!(
            branch_variants(helper),
            [helper.replace("{\"a\": 1}", "#       ")]
        );
        // Inside a block scalar, the other branch stays in the scalar.
        let script = "args:\n- |\n  {{- if .x }}\n  echo a\n  {{- else }}\n  echo b\n  {{- end }}\n";
        assert_eq!(branch_variants(script)[0], script.replace("  echo b", "  #     "));
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
