//! Rendered charts: findings on what `helm template` produced, put back in the chart's own files.
//!
//! Helm writes each rendered document after a `# Source: <chart>/templates/<file>` comment. A finding
//! names its field by a path from the object (`spec.template.spec.containers[0].securityContext.privileged`);
//! the template that wrote the object is read again, its actions neutralised as for the static reading
//! (`crate::helm`), and the path is followed as far as the template writes it. Where the template stops
//! and an action such as `{{- toYaml .Values.securityContext | nindent 12 }}` writes the rest, the path
//! goes on in the values files, from the last one Helm merged back to the chart's own `values.yaml`; a
//! value written as `{{ .Values.x }}` is found the same way. What cannot be followed further is reported
//! where the path stopped: the template line, or the action that writes what is missing.
//!
//! Pure: the shell runs Helm and reads the files; this only reads texts.

use crate::analysis::{
    Analysis, Location, ObjectReport, PathStep, Reached, first_line, follow_path, key_and_scalar_value,
    path_steps,
};
use crate::helm;
use crate::yaml::{Document, Limits, NodeRef, Span, documents};

/// One file of a chart, by its path from the chart's directory (`templates/deployment.yaml`,
/// `values.yaml`; `/`-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartFile {
    /// From the chart's directory, `/`-separated.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// What a rendering was made of, to put its findings back.
#[derive(Clone, Debug)]
pub struct Rendering<'a> {
    /// The chart's name, as `Chart.yaml` gives it: the first part of every `# Source:` path.
    pub chart_name: &'a str,
    /// The chart's templates and the values files (any others are not read).
    pub files: &'a [ChartFile],
    /// The values files among `files`, in the order Helm merges them: the chart's `values.yaml` first,
    /// then each `--values` file (a later one overrides an earlier one).
    pub values: &'a [usize],
    /// Where what has no template of its own goes (the chart's `Chart.yaml`).
    pub fallback: usize,
    /// How it was rendered, shown with every object (`helm template web deploy/web -f values-prod.yaml`).
    pub label: &'a str,
}

/// The item of a list that a template's path step means: the one whose `name` is `container` when one
/// is given and written, else the one at the index, else the only one (a template's `range` writes one
/// item for many).
fn template_item<'d>(container: Option<&str>, index: usize, items: &[NodeRef<'d>]) -> Option<NodeRef<'d>> {
    let named = container.and_then(|name| {
        items
            .iter()
            .find(|item| item.get("name").and_then(|n| n.as_str()) == Some(name))
    });
    named
        .or(items.get(index))
        .or(match items {
            [only] => Some(only),
            _ => None,
        })
        .copied()
}

/// Follows `steps` from `start` in a template (see [`template_item`]).
fn follow<'d>(start: NodeRef<'d>, steps: &[PathStep<'_>], container: Option<&str>) -> Reached<'d> {
    follow_path(start, steps, |_, index, items| {
        template_item(container, index, items)
    })
}

/// The `.Values` path an action reads (`toYaml .Values.securityContext | nindent 12` → `securityContext`).
fn values_path(action: &str) -> Option<Vec<&str>> {
    let from = action.find(".Values.")? + ".Values.".len();
    let rest = action.get(from..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let path: Vec<&str> = rest.get(..end)?.split('.').filter(|p| !p.is_empty()).collect();
    (!path.is_empty()).then_some(path)
}

/// The `.Values` path that `.` stands for at `offset` of a template: the innermost `with .Values.x`
/// around it (a `range` in between makes `.` an item, which no path names).
fn dot_at(template: &str, from: usize, offset: usize) -> Option<Vec<&str>> {
    let mut stack: Vec<Option<Vec<&str>>> = Vec::new();
    let mut rest = template.get(from..offset)?;
    while let Some(open) = rest.find("{{") {
        let after = rest.get(open + 2..)?;
        let close = after.find("}}").unwrap_or(after.len());
        let body = after.get(..close)?.trim_matches('-').trim();
        // `with.Values.x` is `with .Values.x` to Go's template parser.
        let word_end = body
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(body.len());
        let word = body.get(..word_end).unwrap_or("");
        match word {
            "with" => stack.push(Some(values_path(body).unwrap_or_default())),
            "range" => stack.push(None),
            "if" | "define" | "block" => stack.push(Some(Vec::new())),
            "end" => {
                stack.pop();
            }
            _ => {}
        }
        rest = after.get(close..)?;
    }
    // `if` and `define` do not change `.`: the nearest `with` or `range` does.
    stack
        .into_iter()
        .rev()
        .find(|entry| entry.as_ref().is_none_or(|path| !path.is_empty()))
        .flatten()
}

/// The column and text of the line holding `offset`.
fn line_at(text: &str, offset: usize) -> (usize, usize, &str) {
    let start = text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let end = text
        .get(start..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| start + i);
    (start, offset - start, text.get(start..end).unwrap_or(""))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The structural action (`toYaml`, `include` …) that writes into what `reached` ends at: after its key,
/// within its block (actions are comment lines in the neutralised text), and not inside a child's block.
fn action_into(template: &str, neutral: &helm::Neutralised, reached: &Reached<'_>) -> Option<usize> {
    let parsed = neutral.text.as_str();
    // The block starts after the key (an action may follow it on its line) or at the node.
    let (from, owner_column, children_of_key) = match reached.key {
        Some(key) => {
            let (_, column, _) = line_at(parsed, key.span().start);
            (key.span().end, column, true)
        }
        None => {
            let (_, column, _) = line_at(parsed, reached.node.span().start);
            (reached.node.span().start, column, false)
        }
    };
    let (line_start, _, _) = line_at(parsed, from);
    let mut offset = line_start;
    let mut last_child: Option<(usize, bool)> = None;
    for line in parsed.get(line_start..)?.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim();
        let column = indent(line);
        let first_line = start == line_start;
        if !first_line && !content.is_empty() && !content.starts_with('#') {
            let ends_block = if children_of_key {
                column <= owner_column
            } else {
                column < owner_column
            };
            if ends_block {
                break;
            }
            // A child key that opens a block of its own: actions indented under it write there.
            last_child = Some((column, content.ends_with(':')));
            continue;
        }
        for at in neutral
            .structural
            .iter()
            .filter(|at| start <= **at && **at < offset && **at >= from)
        {
            // What an action writes is indented as its `indent N`/`nindent N` says, wherever it stands
            // (`{{ toYaml .Values.resources | indent 12 }}` at column 0 writes under `resources:`).
            let writes_at = written_indent(action_text(template, *at)).unwrap_or(column);
            // (At the key's own column too: a list written there is the key's, as `volumeMounts:` then
            // `{{ toYaml .Values.extraVolumeMounts | indent 10 }}` writes it.)
            let under_child = last_child.is_some_and(|(c, opens)| opens && writes_at >= c);
            // Indented out of the block, it writes beside it (another list item, a sibling key).
            let outside = if children_of_key {
                writes_at <= owner_column
            } else {
                writes_at < owner_column
            };
            if !under_child && !outside {
                return Some(*at);
            }
        }
    }
    None
}

/// The indentation an action gives what it writes: the `N` of its last `indent N` or `nindent N`.
fn written_indent(action: &str) -> Option<usize> {
    let words: Vec<&str> = action
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(|c: char| c.is_whitespace() || c == '|' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .rev()
        .find(|pair| matches!(pair.first(), Some(&"indent") | Some(&"nindent")))
        .and_then(|pair| pair.get(1)?.parse().ok())
}

/// The text of the action that starts at `at`.
fn action_text(template: &str, at: usize) -> &str {
    let rest = template.get(at..).unwrap_or("");
    rest.find("}}")
        .and_then(|end| rest.get(..end + 2))
        .unwrap_or(rest)
}

/// Where a finding goes among the chart's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placed {
    file: usize,
    span: Span,
}

/// A values file as a template reads it: a subchart's `.Values.x` is `x` in its own `values.yaml`, and
/// `<subchart>.x` in its parent's values files.
struct ValuesLayer<'a, 'd> {
    file: usize,
    document: &'a Document<'d>,
    prefix: Vec<&'a str>,
}

/// Follows `values` and then `rest` in the values layers, the one Helm merges last first: the first
/// that writes the whole path, or else the one that writes most of it. `None` when none writes even
/// `values`.
fn in_values(
    layers: &[ValuesLayer<'_, '_>],
    values: &[&str],
    rest: &[PathStep<'_>],
    container: Option<&str>,
) -> Option<Placed> {
    let mut best: Option<(usize, Placed)> = None;
    for layer in layers {
        let Some(root) = layer.document.root() else {
            continue;
        };
        let wanted: Vec<PathStep<'_>> = layer
            .prefix
            .iter()
            .chain(values)
            .map(|k| PathStep::Key(k))
            .chain(rest.iter().copied())
            .collect();
        let (file, document) = (&layer.file, layer.document);
        let reached = follow(root, &wanted, container);
        if reached.taken < layer.prefix.len() + values.len() {
            continue;
        }
        let reached = Reached {
            taken: reached.taken - layer.prefix.len(),
            ..reached
        };
        let wanted = wanted.get(layer.prefix.len()..).unwrap_or_default();
        let span = match reached.key {
            Some(key) => key_and_scalar_value(key, reached.node),
            None => first_line(document.text, reached.node.span()),
        };
        let placed = Placed { file: *file, span };
        if reached.taken == wanted.len() {
            return Some(placed);
        }
        if best.is_none_or(|(taken, _)| reached.taken > taken) {
            best = Some((reached.taken, placed));
        }
    }
    best.map(|(_, placed)| placed)
}

/// The subcharts a chart directory is in, outermost first: `charts/a/charts/b` is `[a, b]`, the chart's
/// own directory `[]`; `None` for what is no chart directory.
fn subchart_chain(directory: &str) -> Option<Vec<&str>> {
    if directory.is_empty() {
        return Some(Vec::new());
    }
    let parts: Vec<&str> = directory.split('/').collect();
    let chain: Option<Vec<&str>> = parts
        .chunks(2)
        .map(|pair| match pair {
            ["charts", name] => Some(*name),
            _ => None,
        })
        .collect();
    chain.filter(|c| !c.is_empty())
}

/// The values layers the template at `path` reads, the one Helm merges last first: the chart's values
/// files (last `--values` first) under the template's subchart names, then each enclosing subchart's
/// `values.yaml`, its own last.
fn values_layers<'a, 'd>(
    path: &'a str,
    values_files: &'a [(usize, Document<'d>)],
    subchart_values: &'a [(&'a str, usize, Document<'d>)],
) -> Vec<ValuesLayer<'a, 'd>> {
    let directory = path
        .find("templates/")
        .and_then(|at| path.get(..at))
        .map_or("", |d| d.trim_end_matches('/'));
    let chain = subchart_chain(directory).unwrap_or_default();
    let mut layers: Vec<ValuesLayer<'a, 'd>> = values_files
        .iter()
        .rev()
        .map(|(file, document)| ValuesLayer {
            file: *file,
            document,
            prefix: chain.clone(),
        })
        .collect();
    for depth in 1..=chain.len() {
        let Some((_, file, document)) = subchart_values.iter().find(|(d, _, _)| {
            subchart_chain(d).is_some_and(|c| c.as_slice() == chain.get(..depth).unwrap_or_default())
        }) else {
            continue;
        };
        layers.push(ValuesLayer {
            file: *file,
            document,
            prefix: chain.get(depth..).unwrap_or_default().to_vec(),
        });
    }
    layers
}

/// The template of one rendered object, its actions neutralised.
struct TemplateObject<'t> {
    file: usize,
    template: &'t str,
    neutral: helm::Neutralised,
}

/// The template document of a rendered object: the `ordinal`th document of kind `kind` (Helm renders a
/// template's documents in order), else the first of that kind, else the first mapping.
fn object_document<'d, 'a>(
    documents: &'d [Document<'a>],
    kind: &str,
    ordinal: usize,
) -> Option<&'d Document<'a>> {
    let of_kind = || {
        documents
            .iter()
            .filter(move |d| d.root().and_then(|r| r.get("kind")).and_then(|k| k.as_str()) == Some(kind))
    };
    of_kind().nth(ordinal).or_else(|| of_kind().next()).or_else(|| {
        documents
            .iter()
            .find(|d| d.root().is_some_and(|r| r.is_mapping()))
    })
}

impl TemplateObject<'_> {
    /// Where the field of `location` comes from, `document` being the object's in the neutralised template.
    fn place(
        &self,
        values_files: &[ValuesLayer<'_, '_>],
        document: &Document<'_>,
        location: &Location,
    ) -> Placed {
        let header = Placed {
            file: self.file,
            span: Span::point(0),
        };
        let Some(root) = document.root() else {
            return header;
        };
        let Some(steps) = path_steps(&location.path).collect::<Option<Vec<_>>>() else {
            return self.kind_line(root).unwrap_or(header);
        };
        let container = location.container.as_deref();
        let reached = follow(root, &steps, container);
        let rest = steps.get(reached.taken..).unwrap_or(&[]);
        let here = Placed {
            file: self.file,
            span: match reached.key {
                Some(key) => key_and_scalar_value(key, reached.node),
                None => first_line(&self.neutral.text, reached.node.span()),
            },
        };
        if rest.is_empty() {
            // Written in the template: from the values when its value is `{{ .Values.x }}`.
            let from_values = self
                .neutral
                .action_within(reached.node.span())
                .and_then(values_path)
                .and_then(|values| in_values(values_files, &values, &[], container));
            return from_values.unwrap_or(here);
        }
        // The template stops here: an action writes the rest, from the values or from a helper.
        let Some(at) = action_into(self.template, &self.neutral, &reached) else {
            return here;
        };
        let action = action_text(self.template, at);
        let values = values_path(action).or_else(|| {
            let reads_dot = action.contains("toYaml .") && !action.contains("toYaml .Values");
            reads_dot
                .then(|| dot_at(self.template, document.span.start, at))
                .flatten()
        });
        let action_line = {
            let (start, column, line) = line_at(self.template, at);
            Span::new(start + column, start + line.len())
        };
        let at_action = Placed {
            file: self.file,
            span: action_line,
        };
        values
            .and_then(|values| in_values(values_files, &values, rest, container))
            .unwrap_or(at_action)
    }

    fn kind_line(&self, root: NodeRef<'_>) -> Option<Placed> {
        let entry = root.entry("kind")?;
        Some(Placed {
            file: self.file,
            span: key_and_scalar_value(entry.key, entry.written_value),
        })
    }
}

/// Puts the findings of a rendering (`analysis` of Helm's output) back in the chart's files: one analysis
/// per file that receives something, each object named as rendered and labelled with `rendering.label`.
/// Fixes are dropped: they were written for the rendering, not for the templates.
pub fn place_helm(analysis: Analysis, rendering: &Rendering<'_>) -> Vec<(usize, Analysis)> {
    // By file index: the output lists the files in the chart's order.
    let mut placed: std::collections::BTreeMap<usize, Analysis> = std::collections::BTreeMap::new();
    let prefix = format!("{}/", rendering.chart_name);
    let template_of = |source: &str| -> Option<usize> {
        let relative = source.strip_prefix(&prefix)?;
        rendering.files.iter().position(|f| f.path == relative)
    };
    let Analysis {
        objects,
        problems,
        config_problems,
        used_exemptions,
        // A rendering is plain YAML, never a template read statically.
        chart_template: _,
        unread_templates: _,
    } = analysis;
    let limits = Limits::default();
    // The values files, read once for every finding, in Helm's merge order; and the subcharts' own.
    let values_files: Vec<(usize, Document<'_>)> = rendering
        .values
        .iter()
        .filter_map(|file| {
            let text = rendering.files.get(*file)?.text.as_str();
            Some((*file, documents(text, &limits).next()?))
        })
        .collect();
    let subchart_values: Vec<(&str, usize, Document<'_>)> = rendering
        .files
        .iter()
        .enumerate()
        .filter_map(|(index, file)| {
            let directory = file.path.strip_suffix("/values.yaml")?;
            subchart_chain(directory)?;
            Some((directory, index, documents(&file.text, &limits).next()?))
        })
        .collect();
    // Each object's template and its rank among the objects of the same kind from that template.
    let mut seen: Vec<(Option<String>, String)> = Vec::new();
    let mut rendered_spans: Vec<(Span, usize, Span)> = Vec::new();
    for mut object in objects {
        let key = (object.source.clone(), object.kind.clone());
        let ordinal = seen.iter().filter(|k| **k == key).count();
        seen.push(key);
        let template = object.source.as_deref().and_then(template_of);
        let reading = template.and_then(|file| {
            let text = rendering.files.get(file)?.text.as_str();
            Some(TemplateObject {
                file,
                template: text,
                neutral: helm::neutralise(text),
            })
        });
        let file = template.unwrap_or(rendering.fallback);
        let template_documents: Vec<Document<'_>> = reading
            .as_ref()
            .map(|r| {
                documents(&r.neutral.text, &limits)
                    .filter(|d| d.error.is_none())
                    .collect()
            })
            .unwrap_or_default();
        let document = object_document(&template_documents, &object.kind, ordinal);
        let header = reading
            .as_ref()
            .zip(document)
            .and_then(|(r, d)| Some((r.kind_line(d.root()?)?.span, d.span)))
            .unwrap_or((Span::point(0), Span::point(0)));
        rendered_spans.push((object.span, file, header.0));
        let layers = template
            .and_then(|t| rendering.files.get(t))
            .map(|t| values_layers(&t.path, &values_files, &subchart_values))
            .unwrap_or_default();
        let place = |location: &Location| match (&reading, document) {
            (Some(reading), Some(document)) => reading.place(&layers, document, location),
            _ => Placed { file, span: header.0 },
        };
        // A finding may go to a values file: the object is then reported there too, with those findings.
        let mut by_file: Vec<(usize, ObjectReport)> = Vec::new();
        let violations = std::mem::take(&mut object.violations);
        let exempted = std::mem::take(&mut object.exempted);
        let shell = |object: &ObjectReport| {
            let mut copy = object.clone();
            copy.source = None;
            copy.rendered = Some(rendering.label.to_string());
            copy.header = header.0;
            copy.span = header.1;
            copy
        };
        let report_in = |target: usize, by_file: &mut Vec<(usize, ObjectReport)>| -> usize {
            match by_file.iter().position(|(f, _)| *f == target) {
                Some(at) => at,
                None => {
                    let mut report = shell(&object);
                    if target != file {
                        // In a values file the object has no header of its own: its findings say where.
                        report.header = Span::point(0);
                        report.span = Span::point(0);
                        report.verdict_elsewhere = true;
                    }
                    by_file.push((target, report));
                    by_file.len() - 1
                }
            }
        };
        // The object itself is always reported in its template, with its verdict.
        report_in(file, &mut by_file);
        for violation in violations {
            for location in &violation.locations {
                let to = place(location);
                let mut moved = location.clone();
                moved.span = to.span;
                moved.fix = None;
                let at = report_in(to.file, &mut by_file);
                if let Some((_, report)) = by_file.get_mut(at) {
                    report.add_location(&violation, moved);
                }
            }
        }
        for (violation, reason) in exempted {
            let mut copy = violation.clone();
            for location in &mut copy.locations {
                location.span = place(location).span;
                location.fix = None;
            }
            if let Some((_, report)) = by_file.first_mut() {
                report.exempted.push((copy, reason));
            }
        }
        for (target, report) in by_file {
            placed.entry(target).or_default().objects.push(report);
        }
    }
    // A problem of the rendering goes to the header of the object it is in, or to the chart.
    let problem_place = |span: Span| -> (usize, Span) {
        rendered_spans
            .iter()
            .find(|(object, _, _)| object.start <= span.start && span.start <= object.end)
            .map_or((rendering.fallback, Span::point(0)), |(_, file, header)| {
                (*file, *header)
            })
    };
    for mut problem in problems {
        let (file, span) = problem_place(problem.span);
        problem.message = format!("{} (rendered by {})", problem.message, rendering.label);
        problem.span = span;
        placed.entry(file).or_default().problems.push(problem);
    }
    for mut problem in config_problems {
        let (file, span) = problem_place(problem.span);
        problem.span = span;
        placed.entry(file).or_default().config_problems.push(problem);
    }
    crate::analysis::settle_placed(placed, used_exemptions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart `web` of one template (`templates/pod.yaml`), its `values.yaml` and its `Chart.yaml`.
    fn web_chart(template: &str, values: &str) -> Vec<ChartFile> {
        [
            ("templates/pod.yaml", template),
            ("values.yaml", values),
            ("Chart.yaml", "name: web\n"),
        ]
        .into_iter()
        .map(|(path, text)| ChartFile {
            path: path.into(),
            text: text.into(),
        })
        .collect()
    }

    /// `helm template rel web` of [`web_chart`]'s files.
    fn web_rendering(files: &[ChartFile]) -> Rendering<'_> {
        Rendering {
            chart_name: "web",
            files,
            values: &[1],
            fallback: 2,
            label: "helm template rel web",
        }
    }

    #[test]
    fn paths_are_steps() {
        assert_eq!(
            path_steps("spec.containers[1].securityContext").collect::<Option<Vec<_>>>(),
            Some(vec![
                PathStep::Key("spec"),
                PathStep::Key("containers"),
                PathStep::Index(1),
                PathStep::Key("securityContext")
            ])
        );
        assert_eq!(
            path_steps("metadata.annotations[\"a.b/c\"]").collect::<Option<Vec<_>>>(),
            Some(vec![
                PathStep::Key("metadata"),
                PathStep::Key("annotations"),
                PathStep::Key("a.b/c")
            ])
        );
    }

    #[test]
    fn actions_name_their_values() {
        assert_eq!(
            values_path("{{- toYaml .Values.securityContext | nindent 12 }}"),
            Some(vec!["securityContext"])
        );
        assert_eq!(
            values_path("{{ toYaml (.Values.a.b_c | default dict) }}"),
            Some(vec!["a", "b_c"])
        );
        assert_eq!(values_path("{{ include \"x\" . }}"), None);
        let template =
            "{{- with .Values.pod.sc }}\nsecurityContext:\n  {{- toYaml . | nindent 2 }}\n{{- end }}\n";
        let at = template.find("{{- toYaml").unwrap_or(0);
        assert_eq!(dot_at(template, 0, at), Some(vec!["pod", "sc"]));
        let unspaced = "{{- with.Values.sc }}\nsecurityContext:\n  {{- toYaml . | nindent 2 }}\n";
        let at = unspaced.find("{{- toYaml").unwrap_or(0);
        assert_eq!(dot_at(unspaced, 0, at), Some(vec!["sc"]));
        let ranged = "{{- with .Values.a }}{{- range .list }}\n{{ toYaml . }}\n";
        let at = ranged.find("{{ toYaml").unwrap_or(0);
        assert_eq!(dot_at(ranged, 0, at), None);
    }

    #[test]
    fn an_action_writes_where_its_indent_puts_it() {
        assert_eq!(
            written_indent("{{ toYaml .Values.resources | indent 12 }}"),
            Some(12)
        );
        assert_eq!(written_indent("{{- include \"x\" . | nindent 8 }}"), Some(8));
        assert_eq!(written_indent("{{- toYaml .Values.x }}"), None);
        // `resources:` then an action at column 0 that indents under it: a missing securityContext is the
        // container's, not the resources' values.
        let template = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      image: x\n      resources:\n{{ toYaml .Values.resources | indent 8 }}\n    {{- with .Values.extraContainers }}\n    {{- toYaml . | nindent 4 }}\n    {{- end }}\n";
        let values = "resources: {}\nextraContainers: []\n";
        let rendered = "---\n# Source: web/templates/pod.yaml\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      image: x\n      resources:\n        {}\n";
        let files = web_chart(template, values);
        let rendering = web_rendering(&files);
        let placed = place_helm(crate::analyze(rendered, &crate::Options::default()), &rendering);
        let files_with_findings: Vec<usize> = placed
            .iter()
            .filter(|(_, a)| a.objects.iter().any(|o| !o.violations.is_empty()))
            .map(|(f, _)| *f)
            .collect();
        assert_eq!(files_with_findings, [0]);
    }

    #[test]
    fn findings_go_to_the_template_line_or_the_values_line_that_writes_them() {
        let template = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n    - name: app\n      image: x\n      securityContext:\n        {{- toYaml .Values.securityContext | nindent 8 }}\n  hostPID: true\n";
        let values = "securityContext:\n  privileged: true\n";
        let rendered = "---\n# Source: web/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: rel\nspec:\n  containers:\n    - name: app\n      image: x\n      securityContext:\n        privileged: true\n  hostPID: true\n";
        let files = web_chart(template, values);
        let rendering = web_rendering(&files);
        let options = crate::Options {
            policy: crate::Policy::new(crate::Level::Baseline, crate::Version::Latest),
            ..Default::default()
        };
        let placed = place_helm(crate::analyze(rendered, &options), &rendering);
        let at = |file: usize, check: &str| -> Vec<&str> {
            placed
                .iter()
                .filter(|(f, _)| *f == file)
                .flat_map(|(_, a)| &a.objects)
                .flat_map(|o| &o.violations)
                .filter(|v| v.check.id == check)
                .flat_map(|v| &v.locations)
                .map(|l| &files[file].text[l.span.start..l.span.end])
                .collect()
        };
        assert_eq!(at(0, "hostNamespaces"), ["hostPID: true"]);
        assert_eq!(at(1, "privileged"), ["privileged: true"]);
        let template_objects: Vec<_> = placed
            .iter()
            .filter(|(f, _)| *f == 0)
            .flat_map(|(_, a)| &a.objects)
            .collect();
        assert_eq!(
            template_objects[0].rendered.as_deref(),
            Some("helm template rel web")
        );
        assert_eq!(
            &template[template_objects[0].header.start..template_objects[0].header.end],
            "kind: Pod"
        );
    }
}
