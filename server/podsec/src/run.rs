//! One run over the inputs, in two passes. The first reads every input once and keeps only its policy
//! sources (Namespaces, the admission configuration), which decide the policy of every other file; the
//! second reads each file again, analyses it in pieces on all cores and hands the pieces to the printer
//! in input order, a few files ahead at most. Memory holds a few files, never the run.

use crate::chunks::{PIECE_BYTES, Piece, analyse_piece, analyse_pieces, may_have_config_problems, pieces};
use crate::inputs::{RunArgs, collect_inputs, note, read_input, warn_no_yaml};
use crate::pipeline;
use crate::project::{ProjectFile, ResolvedKustomization, Resolver, find_project_file, today};
use crate::report::{FileText, FileView, ImpactGroups, Input, Part, Tally};
use podsec_engine::policy::{
    ConfigProblem, Mode, NamespaceLabels, PolicyContext, Severity, admission_config, namespace_labels,
};
use podsec_engine::{Analysis, Level, Limits, Options, Span};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

/// What the first pass keeps of an input besides its policy sources.
#[derive(Debug)]
enum FirstRead {
    /// A regular file: read again when its turn comes.
    Again,
    /// Standard input, a pipe or a device: it cannot be read twice.
    Kept(Arc<String>),
    Failed(String),
}

/// The inputs, their policy contexts and their policy sources.
pub struct Run {
    pub inputs: Vec<Input>,
    /// Paths that do not exist or whose directory cannot be walked, with why.
    pub missing: Vec<(Input, String)>,
    pub contexts: Vec<PolicyContext>,
    /// For each input, the index of its context.
    pub context_of: Vec<usize>,
    /// For each input, the namespace a kustomization gives its objects.
    pub namespace_of: Vec<Option<String>>,
    first_reads: Vec<FirstRead>,
    /// What each input weighs in the pipeline's window (see [`weight`]).
    weights: Vec<u64>,
    /// The Namespaces among the inputs, with the input they are in.
    namespaces: Vec<(usize, NamespaceLabels)>,
    /// The input holding the admission configuration, and its problems.
    admission: Option<(usize, Vec<ConfigProblem>)>,
    projects: Vec<ProjectFile>,
    max_file_size: u64,
    /// `--ignore`: the checks whose findings are set aside as exempted.
    ignored: Vec<String>,
    /// The inputs whose reading a chart's rendering replaces, with what it found in them.
    rendered: HashMap<usize, Analysis>,
    /// Notes on inputs from the charts' renderings (a chart read statically, a rendering Helm refused).
    render_notes: HashMap<usize, Vec<ConfigProblem>>,
    /// The Kustomize overlays the inputs belong to, built: `podsec fix` asks it which files are patches.
    pub overlays: crate::kustomize::Overlays,
}

/// The inputs a run checks, before anything is read: what the paths expand to, less what the project
/// files skip.
pub struct Selection {
    pub inputs: Vec<Input>,
    /// Paths that do not exist or whose directory cannot be walked, with why.
    pub missing: Vec<(Input, String)>,
    projects: Vec<ProjectFile>,
    /// For each input, the index of its project file.
    project_of: Vec<Option<usize>>,
}

/// Expands the paths and drops the files their project file skips (`--show-files` stops here).
pub fn select(args: &RunArgs) -> Result<Selection, String> {
    let (inputs, missing) = collect_inputs(&args.paths, args.stdin_filename.as_deref(), &args.walk);
    if inputs.is_empty() && missing.is_empty() {
        warn_no_yaml(&args.paths, "no YAML file (*.yaml, *.yml) found in");
    }
    let found_any = !inputs.is_empty();
    let (projects, project_of) = load_projects(args, &inputs)?;
    // Files the project skips are not checked.
    let (inputs, project_of): (Vec<Input>, Vec<Option<usize>>) = inputs
        .into_iter()
        .zip(project_of)
        .filter(|(input, project)| match (input, project) {
            (Input::File(path), Some(p)) => {
                let skipped = projects.get(*p).filter(|p| p.skips(path));
                if let Some(project) = skipped {
                    let why = format!(
                        "skipped by `skip` in {}",
                        crate::report::shown(&project.path).display()
                    );
                    note(
                        &args.walk,
                        format_args!("{}: {why}", crate::report::shown(path).display()),
                    );
                }
                skipped.is_none()
            }
            _ => true,
        })
        .unzip();
    if found_any && inputs.is_empty() {
        warn_no_yaml(&args.paths, "every YAML file is skipped by the project file in");
    }
    Ok(Selection {
        inputs,
        missing,
        projects,
        project_of,
    })
}

/// What the worker analysing a file sends to the printer: its head, then its parts.
enum Message {
    Head {
        text: Arc<FileText>,
        error: Option<String>,
        /// The analysis' policy-source problems of every piece, when asked for first.
        config_problems: Option<Vec<ConfigProblem>>,
        pieces: Vec<Piece>,
        /// The analysis of a file of one piece; the parts of a larger one follow as messages.
        first: Option<Analysis>,
    },
    Part(Analysis),
}

impl Run {
    /// Finds the inputs and reads the policy sources: the project files, and the Namespaces and admission
    /// configuration among the inputs (the first pass).
    pub fn prepare(args: &RunArgs) -> Result<Self, String> {
        let Selection {
            mut inputs,
            missing,
            projects,
            project_of,
        } = select(args)?;
        let limits = Limits::default();
        let mut weights: Vec<u64> = inputs.iter().map(weight).collect();
        // The kustomizations are looked up beside the first pass, on its idle cores at its end; the charts
        // are rendered beside it too (Helm's processes mostly wait).
        let (first, mut namespace_of, charts) = std::thread::scope(|scope| {
            let kustomized = scope.spawn(|| kustomize_namespaces(&inputs, args.max_file_size));
            let charts = args.render.as_ref().map(|settings| {
                scope.spawn(|| {
                    let files: Vec<Option<&Path>> = inputs
                        .iter()
                        .map(|input| match input {
                            Input::File(path) => Some(path.as_path()),
                            Input::Stdin(_) => None,
                        })
                        .collect();
                    crate::charts::render(&files, &project_of, &projects, settings)
                })
            });
            let first = crate::parallel::parallel_map_heaviest_first(&inputs, &weights, |input| {
                let sources = |text: &str| {
                    let labels = namespace_labels(text, &limits);
                    let name = format!("admission configuration {}", input.display());
                    (labels, admission_config(text, &name, &limits))
                };
                // A regular file is read again in its turn: its text here is only looked at, in a buffer
                // each worker reuses (fresh pages for every file cost more than the reading).
                if let Input::File(path) = input {
                    let read = FIRST_PASS_BUFFER.with_borrow_mut(|buffer| {
                        let regular = crate::read::read_file_into(path, args.max_file_size, buffer)?;
                        let text = crate::read::utf8_str(buffer)?;
                        let (labels, admission) = sources(&text);
                        let kept = if regular {
                            FirstRead::Again
                        } else {
                            FirstRead::Kept(Arc::new(text.to_string()))
                        };
                        Ok::<_, String>((kept, labels, admission))
                    });
                    return read.unwrap_or_else(|e| (FirstRead::Failed(e), Vec::new(), None));
                }
                let text = match read_input(input, args.max_file_size) {
                    Ok(text) => text,
                    Err(e) => return (FirstRead::Failed(e), Vec::new(), None),
                };
                let (labels, admission) = sources(&text);
                (FirstRead::Kept(Arc::new(text)), labels, admission)
            });
            let namespace_of = kustomized.join().unwrap_or_else(|_| vec![None; inputs.len()]);
            let charts = charts.and_then(|c| c.join().ok()).unwrap_or_default();
            (first, namespace_of, charts)
        });
        let mut first_reads = Vec::new();
        let mut namespaces = Vec::new();
        let mut found_admission = None;
        for (index, (read, labels, admission)) in first.into_iter().enumerate() {
            first_reads.push(read);
            namespaces.extend(labels.into_iter().map(|l| (index, l)));
            if found_admission.is_none() {
                found_admission = admission.map(|a| (index, a));
            }
        }
        let base = PolicyContext {
            override_policy: args.policy,
            override_version: args.policy_version,
            namespaces: namespaces.iter().map(|(_, n)| n.clone()).collect(),
            admission: found_admission.as_ref().map(|(_, (a, _))| a.clone()),
            today: today(),
            ..PolicyContext::default()
        };
        let mut contexts = vec![base.clone()];
        for project in &projects {
            let mut context = base.clone();
            context.project = Some(project.config.clone());
            if let Some((_, _, admission, _)) = &project.admission {
                context.admission = Some(admission.clone());
            }
            contexts.push(context);
        }
        let mut context_of: Vec<usize> = project_of.iter().map(|p| p.map_or(0, |p| p + 1)).collect();
        // Kustomize overlays, built and analysed with the policy of their first input.
        let overlay_context = contexts.get(context_of.first().copied().unwrap_or(0));
        let analyse = |output: &str| {
            let options = Options {
                context: overlay_context,
                ..Options::default()
            };
            podsec_engine::analyze(output, &options)
        };
        let mut overlays = crate::kustomize::build_overlays(&inputs, args.max_file_size, &analyse);
        let show = |root: &Path| crate::report::shown(root).display().to_string();
        let found = crate::charts::place(&charts, show, |first_input, text, namespace| {
            let options = Options {
                context: contexts.get(context_of.get(first_input).copied().unwrap_or(0)),
                namespace_default: namespace,
                ..Options::default()
            };
            podsec_engine::analyze(text, &options)
        });
        // The patches among the inputs (one outside them is not checked anyway).
        let patch_inputs: Vec<(usize, &str)> = overlays
            .patches
            .iter()
            .filter_map(|(path, why)| {
                let index = inputs
                    .iter()
                    .position(|i| matches!(i, Input::File(p) if p == path))?;
                Some((index, why.as_str()))
            })
            .collect();
        // A values file or `Chart.yaml` that findings or notes were put in is reported even when it was not
        // among the inputs. What was put in a file is about the text read for it: the run reads no other.
        let mut input_of = |path: &Path, text: Arc<String>| -> usize {
            let index = match inputs
                .iter()
                .position(|i| matches!(i, Input::File(p) if p == path))
            {
                Some(at) => at,
                None => {
                    inputs.push(Input::File(path.to_path_buf()));
                    weights.push(text.len() as u64);
                    first_reads.push(FirstRead::Again);
                    context_of.push(0);
                    namespace_of.push(None);
                    inputs.len() - 1
                }
            };
            if let Some(read) = first_reads.get_mut(index) {
                *read = FirstRead::Kept(text);
            }
            index
        };
        let mut rendered: HashMap<usize, Analysis> = HashMap::new();
        for placed in found.placed {
            rendered.insert(input_of(&placed.path, placed.text), placed.analysis);
        }
        // The overlays' findings are put in their bases and patches the same way; a patch is never judged
        // as a whole object, built or not.
        for placed in std::mem::take(&mut overlays.placed) {
            rendered
                .entry(input_of(&placed.path, placed.text))
                .or_default()
                .append(placed.analysis);
        }
        for (index, why) in patch_inputs {
            rendered
                .entry(index)
                .or_default()
                .problems
                .insert(0, podsec_engine::kustomize::patch_note(why));
        }
        for (path, text, problem) in &overlays.problems {
            let index = input_of(path, Arc::clone(text));
            rendered.entry(index).or_default().problems.push(problem.clone());
        }
        let mut render_notes: HashMap<usize, Vec<ConfigProblem>> = HashMap::new();
        for (path, text, note) in found.notes {
            render_notes.entry(input_of(&path, text)).or_default().push(note);
        }
        Ok(Self {
            inputs,
            missing,
            contexts,
            context_of,
            namespace_of,
            first_reads,
            weights,
            namespaces,
            admission: found_admission.map(|(index, (_, problems))| (index, problems)),
            projects,
            max_file_size: args.max_file_size,
            ignored: args.ignore.clone(),
            rendered,
            render_notes,
            overlays,
        })
    }

    /// The project files of the run, in order of first use.
    pub fn projects(&self) -> &[ProjectFile] {
        &self.projects
    }

    /// The Namespaces among the inputs, with the input each is in.
    pub fn namespaces(&self) -> &[(usize, NamespaceLabels)] {
        &self.namespaces
    }

    /// The input holding the admission configuration, if one is among them.
    pub fn admission_input(&self) -> Option<&Input> {
        self.admission
            .as_ref()
            .and_then(|(index, _)| self.inputs.get(*index))
    }

    /// The analysis options of input `index`: its policy context and kustomization namespace.
    pub fn options(&self, index: usize) -> Options<'_> {
        Options {
            context: self
                .contexts
                .get(self.context_of.get(index).copied().unwrap_or(0)),
            namespace_override: self.namespace_of.get(index).and_then(|n| n.as_deref()),
            ..Options::default()
        }
    }

    /// The text of input `index`: read again, or as the first pass kept it.
    pub fn text(&self, index: usize) -> Result<Arc<String>, String> {
        match (self.first_reads.get(index), self.inputs.get(index)) {
            (Some(FirstRead::Kept(text)), _) => Ok(Arc::clone(text)),
            (Some(FirstRead::Failed(e)), _) => Err(e.clone()),
            (_, Some(input)) => read_input(input, self.max_file_size).map(Arc::new),
            (_, None) => Err("no such input".to_string()),
        }
    }

    /// Why input `index` could not be read in the first pass, if it could not.
    pub fn read_error(&self, index: usize) -> Option<&str> {
        match self.first_reads.get(index) {
            Some(FirstRead::Failed(e)) => Some(e),
            _ => None,
        }
    }

    /// The enforce labels whose impact must be computed: a Namespace's enforce label stricter than
    /// privileged (PSA's dry run never warns for privileged).
    fn impact_labels(&self) -> Vec<usize> {
        (0..self.namespaces.len())
            .filter(|l| {
                self.namespaces.get(*l).is_some_and(|(_, labels)| {
                    labels.enforce_span.is_some()
                        && labels
                            .modes
                            .iter()
                            .any(|(m, p)| *m == Mode::Enforce && p.policy.level != Level::Privileged)
                })
            })
            .collect()
    }

    /// The second pass: every input, then the policy files and unreadable paths, handed to `write` in
    /// order, each with its parts as they are analysed. `config_problems_first`: the printer needs a
    /// file's policy-source problems before its objects (they are then found by a first look at its
    /// pieces when it has several).
    pub fn stream(
        &self,
        config_problems_first: bool,
        mut baseline: Option<&mut crate::baseline::Baseline>,
        mut write: impl FnMut(&FileView<'_>, &mut Parts<'_>) -> std::io::Result<()>,
    ) -> std::io::Result<Tally> {
        let mut tally = Tally::default();
        let impact_labels = self.impact_labels();
        let first_impact_file = impact_labels
            .iter()
            .filter_map(|l| self.namespaces.get(*l).map(|(file, _)| *file))
            .min();
        // The workloads of files from the first impact-bearing Namespace file on are analysed once
        // before the output; those before it are seen as they stream by, before that file is written.
        let mut impact: HashMap<usize, ImpactGroups> = HashMap::new();
        let mut later = first_impact_file.map(|first| self.impact_from(first, &impact_labels));
        let mut used = HashSet::new();
        // Many small files in flight keep every core busy; large ones run alone, so memory stays
        // bounded by the largest file plus this budget.
        let window = pipeline::Window {
            items: pipeline::workers() * 64,
            weights: &self.weights,
            bytes: IN_FLIGHT_BYTES,
            pending: PENDING_FINDINGS_BYTES,
        };
        pipeline::ordered(
            self.inputs.len(),
            window,
            Message::cost,
            |index, sender| self.produce(index, config_problems_first, sender),
            |index, receiver| {
                if Some(index) == first_impact_file {
                    for (label, groups) in later.take().into_iter().flatten() {
                        impact.entry(label).or_default().extend(groups);
                    }
                }
                let Some(input) = self.inputs.get(index) else {
                    return Ok(());
                };
                let Ok(Message::Head {
                    text,
                    error,
                    config_problems,
                    pieces,
                    first,
                }) = receiver.recv()
                else {
                    return Ok(());
                };
                let extra = if error.is_some() {
                    Vec::new()
                } else {
                    self.extra_of(index, &impact)
                };
                let config_problems = config_problems.map(|mut all| {
                    all.extend(extra.iter().cloned());
                    all
                });
                let file = FileView {
                    input,
                    text: &text,
                    error: error.as_deref(),
                    config_problems: config_problems.as_deref(),
                    source_only: false,
                };
                tally.add_file(&file);
                let collect_impact = first_impact_file.is_some_and(|first| index < first);
                let mut parts = Parts {
                    source: PartSource::Stream {
                        receiver,
                        first,
                        pieces: pieces.into_iter(),
                    },
                    extra,
                    tally: &mut tally,
                    ignored: &self.ignored,
                    baseline: baseline.as_deref_mut().map(|b| (b, input.display())),
                    used: Some(&mut used),
                    impact: collect_impact.then_some((&mut impact, &impact_labels, &self.namespaces)),
                };
                let written = write(&file, &mut parts);
                parts.by_ref().for_each(drop);
                written
            },
        )?;
        for (input, text, extra) in self.policy_files(&used) {
            let text = FileText::new(Arc::new(text));
            let file = FileView {
                input: &input,
                text: &text,
                error: None,
                config_problems: config_problems_first.then_some(extra.as_slice()),
                source_only: true,
            };
            tally.add_file(&file);
            let mut parts = Parts::ready(&mut tally, extra.clone());
            write(&file, &mut parts)?;
        }
        let empty = FileText::empty();
        for (input, error) in &self.missing {
            let file = FileView {
                input,
                text: &empty,
                error: Some(error),
                config_problems: config_problems_first.then_some(&[]),
                source_only: false,
            };
            tally.add_file(&file);
            write(&file, &mut Parts::ready(&mut tally, Vec::new()))?;
        }
        Ok(tally)
    }

    /// Reads and analyses input `index` on a worker, sending its head and then its parts.
    fn produce(&self, index: usize, config_problems_first: bool, sender: &pipeline::Sender<'_, Message>) {
        if let (Some(analysis), Ok(text)) = (self.rendered.get(&index), self.text(index)) {
            let file_text = Arc::new(FileText::new(text));
            file_text.lines();
            let whole = Piece {
                range: Span::new(0, file_text.text.len()),
                first_document: 0,
            };
            let _ = sender.send(Message::Head {
                text: file_text,
                error: None,
                config_problems: config_problems_first.then(|| analysis.config_problems.clone()),
                pieces: vec![whole],
                first: Some(analysis.clone()),
            });
            return;
        }
        let text = match self.text(index) {
            Ok(text) => text,
            Err(error) => {
                let _ = sender.send(Message::Head {
                    text: Arc::new(FileText::empty()),
                    error: Some(error),
                    config_problems: Some(Vec::new()),
                    pieces: Vec::new(),
                    first: None,
                });
                return;
            }
        };
        let options = self.options(index);
        let cut = pieces(&text, &options, PIECE_BYTES);
        // A file of one piece (most are) goes in one message with its head, so that its worker goes on to
        // the next file at once rather than waiting for the printer to reach this one.
        let first = match cut.as_slice() {
            [only] => Some(analyse_piece(&text, *only, &options)),
            _ => None,
        };
        let config_problems = config_problems_first.then(|| match &first {
            Some(analysis) => analysis.config_problems.clone(),
            // A first look at the pieces for what is printed before the objects; the objects are found
            // again piece by piece.
            None => cut
                .iter()
                .filter(|piece| may_have_config_problems(&text, **piece))
                .flat_map(|piece| analyse_piece(&text, *piece, &options).config_problems)
                .collect(),
        });
        let file_text = Arc::new(FileText::new(text));
        // The line index for printing positions is built here, on a worker, rather than by the printer.
        let index_lines = |analysis: &Analysis| {
            let printed = !(analysis.objects.is_empty()
                && analysis.problems.is_empty()
                && analysis.config_problems.is_empty());
            if printed {
                file_text.lines();
            }
        };
        if let Some(analysis) = &first {
            index_lines(analysis);
        }
        let whole = first.is_some();
        let head = Message::Head {
            text: Arc::clone(&file_text),
            error: None,
            config_problems,
            pieces: cut.clone(),
            first,
        };
        if sender.send(head).is_err() || whole {
            return;
        }
        analyse_pieces(&file_text.text, &cut, &options, |analysis| {
            index_lines(&analysis);
            sender.send(Message::Part(analysis)).is_ok()
        });
    }

    /// The impact groups, per label, of the workloads in inputs from `first` on that may be in the
    /// labels' namespaces (their text names one, or their kustomization gives one).
    fn impact_from(&self, first: usize, labels: &[usize]) -> Vec<(usize, ImpactGroups)> {
        let names: Vec<&str> = labels
            .iter()
            .filter_map(|l| self.namespaces.get(*l).map(|(_, n)| n.name.as_str()))
            .collect();
        let candidates: Vec<usize> = (first..self.inputs.len()).collect();
        let per_file = crate::parallel::parallel_map(&candidates, |index| {
            let mut found: Vec<(usize, ImpactGroups)> = Vec::new();
            let Ok(text) = self.text(*index) else {
                return found;
            };
            let given = self.namespace_of.get(*index).and_then(|n| n.as_deref());
            if !names.iter().any(|n| text.contains(n) || given == Some(*n)) {
                return found;
            }
            let options = self.options(*index);
            analyse_pieces(
                &text,
                &pieces(&text, &options, PIECE_BYTES),
                &options,
                |mut analysis| {
                    set_aside_ignored(&mut analysis, &self.ignored);
                    add_impact(&analysis, labels, &self.namespaces, &mut found);
                    true
                },
            );
            found
        });
        let mut all: Vec<(usize, ImpactGroups)> =
            labels.iter().map(|l| (*l, ImpactGroups::default())).collect();
        for found in per_file {
            for (label, groups) in found {
                if let Some((_, total)) = all.iter_mut().find(|(l, _)| *l == label) {
                    total.extend(groups);
                }
            }
        }
        all
    }

    /// The run's problems located in input `index`: each Namespace's invalid labels and the impact of its
    /// enforce label, then the admission configuration's problems.
    fn extra_of(&self, index: usize, impact: &HashMap<usize, ImpactGroups>) -> Vec<ConfigProblem> {
        let mut extra = Vec::new();
        for (label, (_, labels)) in self
            .namespaces
            .iter()
            .enumerate()
            .filter(|(_, (f, _))| *f == index)
        {
            extra.extend(labels.problems.iter().cloned());
            if let Some(warning) = impact.get(&label).and_then(|groups| groups.warning(labels)) {
                extra.push(warning);
            }
        }
        if let Some((_, problems)) = self.admission.as_ref().filter(|(f, _)| *f == index) {
            extra.extend(problems.iter().cloned());
        }
        extra.extend(self.render_notes.get(&index).into_iter().flatten().cloned());
        extra
    }

    /// The policy files with something to report, after the inputs: each project file's exemptions that
    /// expired or matched nothing (`used`: the exemptions that matched) and its warnings, and the problems
    /// of an admission configuration it names that was not among the inputs.
    fn policy_files(&self, used: &HashSet<Span>) -> Vec<(Input, String, Vec<ConfigProblem>)> {
        let used: Vec<Span> = used.iter().copied().collect();
        let mut files = Vec::new();
        for (index, project) in self.projects.iter().enumerate() {
            let mut extra = self
                .contexts
                .get(index + 1)
                .map(|c| c.exemption_problems(&used))
                .unwrap_or_default();
            extra.extend(
                project
                    .problems
                    .iter()
                    .filter(|p| p.severity != Severity::Error)
                    .cloned(),
            );
            if !extra.is_empty() {
                files.push((Input::File(project.path.clone()), project.text.clone(), extra));
            }
            if let Some((path, text, _, problems)) = &project.admission {
                let same = |p: &Path| std::fs::canonicalize(p).ok() == std::fs::canonicalize(path).ok();
                let checked = self.inputs.iter().any(|i| matches!(i, Input::File(p) if same(p)));
                if !problems.is_empty() && !checked {
                    files.push((Input::File(path.clone()), text.clone(), problems.clone()));
                }
            }
        }
        files
    }
}

/// Loads the project file of every input (`--config`, or the nearest `.podsec.yaml` above it). A project
/// file with errors stops the run with every error located, as a usage error.
fn load_projects(args: &RunArgs, inputs: &[Input]) -> Result<(Vec<ProjectFile>, Vec<Option<usize>>), String> {
    let mut projects: Vec<ProjectFile> = Vec::new();
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    let mut cache = HashMap::new();
    let mut resolver = Resolver::default();
    let mut project_of = Vec::new();
    for input in inputs {
        let path = match (&args.config, input) {
            (Some(config), _) => Some(config.clone()),
            (None, Input::File(file)) => find_project_file(file, &mut cache, &mut resolver),
            // Standard input's project file is the one of the name it is given.
            (None, Input::Stdin(name)) => {
                let directory = name
                    .as_deref()
                    .and_then(Path::parent)
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                find_project_file(directory, &mut cache, &mut resolver)
            }
        };
        let Some(path) = path else {
            project_of.push(None);
            continue;
        };
        let index = match by_path.get(&path) {
            Some(index) => *index,
            None => {
                let project = ProjectFile::load(&path, args.max_file_size)?;
                let errors: Vec<String> = project
                    .problems
                    .iter()
                    .filter(|p| p.severity == Severity::Error)
                    .map(|p| {
                        let index = podsec_engine::text::LineIndex::new(&project.text);
                        let at = index.line_column(&project.text, p.span.start);
                        format!(
                            "{}:{}:{}: {}: {}",
                            path.display(),
                            at.line,
                            at.column,
                            p.code,
                            p.message
                        )
                    })
                    .collect();
                if !errors.is_empty() {
                    return Err(format!("the project file has errors:\n{}", errors.join("\n")));
                }
                projects.push(project);
                by_path.insert(path, projects.len() - 1);
                projects.len() - 1
            }
        };
        project_of.push(Some(index));
    }
    Ok((projects, project_of))
}

/// Kustomize: a kustomization's `namespace:` is the namespace of the resources it lists. Each candidate
/// file is read once, however many inputs sit below it.
fn kustomize_namespaces(inputs: &[Input], max_file_size: u64) -> Vec<Option<String>> {
    let mut kustomizations: HashMap<PathBuf, Option<Arc<ResolvedKustomization>>> = HashMap::new();
    let mut resolver = Resolver::default();
    let mut read = |path: &Path| {
        kustomizations
            .entry(path.to_path_buf())
            // Only a regular file: a FIFO of that name must not stop the run.
            .or_insert_with(|| {
                let text = path
                    .is_file()
                    .then(|| crate::read::read_text(path, max_file_size).ok())
                    .flatten()?;
                ResolvedKustomization::read(path.parent()?, &text).map(Arc::new)
            })
            .clone()
    };
    inputs
        .iter()
        .map(|input| match input {
            Input::File(path) => crate::project::kustomize_namespace(path, &mut resolver, &mut read),
            // Standard input sits where its name says (`--stdin-filename`), for its kustomization too.
            Input::Stdin(Some(name)) => {
                let absolute = std::env::current_dir()
                    .map(|cwd| cwd.join(name))
                    .unwrap_or_else(|_| name.clone());
                crate::project::kustomize_namespace(&absolute, &mut resolver, &mut read)
            }
            Input::Stdin(None) => None,
        })
        .collect()
}

thread_local! {
    /// The first pass's read buffer, one per worker.
    static FIRST_PASS_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What the findings analysed and not yet printed may take (by [`Message::cost`]) before a worker starts
/// another file: a file of insecure Deployments has findings of ten times its size.
const PENDING_FINDINGS_BYTES: u64 = 1024 * 1024;

impl Message {
    /// About what a message's analysis takes in memory: its objects with their violations and PSA's
    /// lines, and its problems (the text is counted by the window's weights).
    fn cost(&self) -> u64 {
        let analysis = match self {
            Message::Head { first, .. } => first.as_ref(),
            Message::Part(analysis) => Some(analysis),
        };
        let Some(analysis) = analysis else { return 0 };
        let objects: usize = analysis
            .objects
            .iter()
            .map(|object| {
                let failures: usize = object.mode_lines.iter().map(|line| line.failures.len()).sum();
                512 + 384 * (object.violations.len() + object.exempted.len()) + 256 * failures
            })
            .sum();
        let problems = 256 * (analysis.problems.len() + analysis.config_problems.len());
        u64::try_from(objects + problems).unwrap_or(u64::MAX)
    }
}

/// What the files in flight beside the first may weigh together (see `pipeline::Window`).
const IN_FLIGHT_BYTES: u64 = 16 * 1024 * 1024;

/// What an input weighs in the pipeline's window: a regular file its size; standard input, a pipe or a
/// device (whose size is unknown) the whole budget, so it runs alone.
fn weight(input: &Input) -> u64 {
    match input {
        Input::File(path) => std::fs::metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or(u64::MAX, |m| m.len()),
        Input::Stdin(_) => u64::MAX,
    }
}

/// The reason `--show-exempted` gives a finding of a check `--ignore` names.
pub const IGNORED_ON_THE_COMMAND_LINE: &str = "ignored on the command line";

/// Moves the findings of the `--ignore`d checks to the exempted ones, and out of PSA's lines, as the
/// engine does for an exemption: the run then counts, prints and exits as if they were exempted.
fn set_aside_ignored(analysis: &mut Analysis, ignored: &[String]) {
    if ignored.is_empty() {
        return;
    }
    for object in &mut analysis.objects {
        let (set_aside, kept) = std::mem::take(&mut object.violations)
            .into_iter()
            .partition(|v| ignored.iter().any(|id| id == v.check.id));
        object.violations = kept;
        let set_aside: Vec<_> = set_aside;
        object.exempted.extend(
            set_aside
                .into_iter()
                .map(|v| (v, IGNORED_ON_THE_COMMAND_LINE.to_string())),
        );
        let violations = &object.violations;
        for line in &mut object.mode_lines {
            line.failures
                .retain(|f| violations.iter().any(|v| v.check.id == f.check.id));
        }
    }
}

/// Adds the objects of `analysis` to the impact groups of each label.
fn add_impact(
    analysis: &Analysis,
    labels: &[usize],
    namespaces: &[(usize, NamespaceLabels)],
    groups: &mut Vec<(usize, ImpactGroups)>,
) {
    for label in labels {
        let Some((_, namespace)) = namespaces.get(*label) else {
            continue;
        };
        for object in &analysis.objects {
            if object.namespace.as_deref() != Some(namespace.name.as_str()) {
                continue;
            }
            let entry = match groups.iter().position(|(l, _)| l == label) {
                Some(position) => position,
                None => {
                    groups.push((*label, ImpactGroups::default()));
                    groups.len() - 1
                }
            };
            if let Some((_, group)) = groups.get_mut(entry) {
                group.add(namespace, object);
            }
        }
    }
}

enum PartSource {
    Stream {
        receiver: Receiver<Message>,
        /// The analysis that came with the head, if it did.
        first: Option<Analysis>,
        pieces: std::vec::IntoIter<Piece>,
    },
    Ready(std::vec::IntoIter<Part>),
}

/// A file's parts, in source order, as they are analysed. Reading them counts them: the summary, the
/// exemptions used and the impact of Namespace labels come from what passes here.
pub struct Parts<'r> {
    source: PartSource,
    /// The run's problems of the file not yet handed out, in order.
    extra: Vec<ConfigProblem>,
    tally: &'r mut Tally,
    /// `--ignore`: the checks set aside as exempted.
    ignored: &'r [String],
    /// `--baseline`/`--write-baseline`, with the file's path as output shows it.
    baseline: Option<(&'r mut crate::baseline::Baseline, String)>,
    /// The project-file exemptions that matched a finding.
    used: Option<&'r mut HashSet<Span>>,
    #[allow(clippy::type_complexity, reason = "borrowed for one file")]
    impact: Option<(
        &'r mut HashMap<usize, ImpactGroups>,
        &'r [usize],
        &'r [(usize, NamespaceLabels)],
    )>,
}

impl<'r> Parts<'r> {
    /// Parts already known (a policy file's problems): one part holding them.
    fn ready(tally: &'r mut Tally, extra: Vec<ConfigProblem>) -> Self {
        let part = Part {
            analysis: Analysis::default(),
            extra,
        };
        Self {
            source: PartSource::Ready(vec![part].into_iter()),
            extra: Vec::new(),
            tally,
            ignored: &[],
            baseline: None,
            used: None,
            impact: None,
        }
    }
}

impl Iterator for Parts<'_> {
    type Item = Part;

    fn next(&mut self) -> Option<Part> {
        let mut part = match &mut self.source {
            PartSource::Ready(parts) => parts.next()?,
            PartSource::Stream {
                receiver,
                first,
                pieces,
            } => {
                let piece = pieces.next()?;
                let analysis = match first.take() {
                    Some(analysis) => analysis,
                    None => match receiver.recv() {
                        Ok(Message::Part(analysis)) => analysis,
                        _ => return None,
                    },
                };
                // The run's problems located in this piece; the last piece takes the rest.
                let last = pieces.len() == 0;
                let (extra, rest) = std::mem::take(&mut self.extra)
                    .into_iter()
                    .partition(|p| last || p.span.start < piece.range.end);
                self.extra = rest;
                Part { analysis, extra }
            }
        };
        set_aside_ignored(&mut part.analysis, self.ignored);
        crate::codes::set_aside_problems(&mut part.analysis, &mut part.extra, self.ignored);
        if let Some((baseline, path)) = &mut self.baseline {
            baseline.apply(path, &mut part.analysis, &mut part.extra);
        }
        self.tally.add_part(&part);
        if let Some(used) = &mut self.used {
            used.extend(part.analysis.used_exemptions.iter().copied());
        }
        if let Some((impact, labels, namespaces)) = &mut self.impact {
            let mut found: Vec<(usize, ImpactGroups)> = Vec::new();
            add_impact(&part.analysis, labels, namespaces, &mut found);
            for (label, groups) in found {
                impact.entry(label).or_default().extend(groups);
            }
        }
        Some(part)
    }
}
