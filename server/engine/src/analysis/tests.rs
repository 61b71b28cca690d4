//! The driver, the reuse cache, modes and templates.

#![allow(clippy::indexing_slicing, reason = "tests fail by panicking")]
use super::*;
use crate::policy::PolicyContext;
use crate::policy::{Level, Version};

const STREAM: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: team}\nspec:\n  containers:\n  - name: ü\n    image: x\n    securityContext: {privileged: true}\n---\n# a ConfigMap is not a workload\napiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    template:\n      spec:\n        hostNetwork: true\n        containers: [{name: c, image: y}]\n---\nkind: Pod\nspec: [broken\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\nspec: {privileged: true}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: team}\nspec:\n  containers:\n  - name: ü\n    image: x\n    securityContext: {privileged: true}\n";

#[test]
fn every_mode_line_is_psa_evaluation_at_its_own_policy() {
    // Randomised label sets (valid, invalid and missing levels and versions, warn inheriting
    // enforce) on a Namespace, and pods that fail at different levels and versions: each mode's line
    // must be exactly what a single-mode run at that policy says, whatever the other modes report.
    const PODS: &[&str] = &[
        "spec:\n  hostPID: true\n  containers:\n  - name: app\n    image: x\n",
        "spec:\n  containers:\n  - name: app\n    image: x\n    securityContext: {privileged: true, runAsUser: 0}\n",
        "spec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}, sysctls: [{name: kernel.msgmax, value: \"1\"}]}\n  containers:\n  - name: app\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n",
        "spec:\n  securityContext: {windowsOptions: {hostProcess: true}}\n  hostNetwork: true\n  containers:\n  - name: app\n    image: x\n    securityContext: {capabilities: {add: [NET_ADMIN]}}\n",
    ];
    const LEVELS: &[Option<&str>] = &[
        None,
        Some("privileged"),
        Some("baseline"),
        Some("restricted"),
        Some("bogus"),
    ];
    const VERSIONS: &[Option<&str>] = &[
        None,
        Some("latest"),
        Some("v1.0"),
        Some("v1.22"),
        Some("v1.25"),
        Some("v1.99"),
        Some("1.25"),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..400 {
        let mut labels = String::new();
        for mode in ["enforce", "warn", "audit"] {
            if let Some(level) = LEVELS[next(LEVELS.len())] {
                labels.push_str(&format!("    pod-security.kubernetes.io/{mode}: {level}\n"));
            }
            if let Some(version) = VERSIONS[next(VERSIONS.len())] {
                labels.push_str(&format!(
                    "    pod-security.kubernetes.io/{mode}-version: \"{version}\"\n"
                ));
            }
        }
        if labels.is_empty() {
            labels.push_str("    other: label\n");
        }
        let pod = PODS[next(PODS.len())];
        let kind = if round % 2 == 0 { "Pod" } else { "Deployment" };
        let object = if kind == "Pod" {
            format!("kind: Pod\nmetadata: {{name: p, namespace: ns}}\n{pod}")
        } else {
            let indented: String = pod.lines().map(|l| format!("    {l}\n")).collect();
            format!("kind: Deployment\nmetadata: {{name: p, namespace: ns}}\nspec:\n  template:\n{indented}")
        };
        let text = format!("kind: Namespace\nmetadata:\n  name: ns\n  labels:\n{labels}---\n{object}");
        let context = PolicyContext {
            namespaces: crate::policy::namespace_labels(&text, &Limits::default()),
            ..PolicyContext::default()
        };
        let analysis = analyze(
            &text,
            &Options {
                context: Some(&context),
                ..Options::default()
            },
        );
        let report = &analysis.objects[0];
        // Every mode that checks something has exactly one line, at its own policy.
        for (mode, mode_policy) in &report.modes {
            let lines: Vec<&ModeLine> = report
                .mode_lines
                .iter()
                .filter(|l| l.modes.contains(mode))
                .collect();
            assert_eq!(lines.len(), 1, "{text}");
            assert_eq!(lines[0].policy, mode_policy.policy, "{text}");
        }
        assert_eq!(
            report.mode_lines.iter().map(|l| l.modes.len()).sum::<usize>(),
            report.modes.len(),
            "{text}"
        );
        for line in &report.mode_lines {
            let alone = analyze(
                &object,
                &Options {
                    policy: line.policy,
                    ..Options::default()
                },
            );
            let expected = alone.objects[0].warning();
            let got = if line.failures.is_empty() {
                String::new()
            } else {
                line.message()
            };
            assert_eq!(
                got,
                expected,
                "{} at {}:\n{text}",
                line.modes[0].as_str(),
                line.policy
            );
        }
    }
}

#[test]
fn both_branches_of_a_template_else_are_seen() {
    let template = "kind: Pod\nmetadata: {name: web}\nspec:\n  {{- if .Values.root }}\n  securityContext:\n    runAsUser: 0\n  {{- else }}\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: Localhost}\n  {{- end }}\n  containers:\n  - name: app\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
    let analysis = analyze(template, &Options::default());
    let found: Vec<(&str, usize)> = analysis.objects[0]
        .violations
        .iter()
        .flat_map(|v| v.locations.iter().map(move |l| (v.check.id, l.span.start)))
        .collect();
    let at = |needle: &str| template.find(needle).unwrap();
    // The `if` branch sets the root user and no non-root or seccomp setting: reported, though the clean
    // `else` branch comes last (a duplicate `securityContext:` key, of which YAML keeps the last).
    assert!(found.contains(&("runAsUser", at("runAsUser: 0"))), "{found:?}");
    assert_eq!(
        analysis.objects[0]
            .violations
            .iter()
            .map(|v| v.check.id)
            .collect::<Vec<_>>(),
        ["runAsNonRoot", "runAsUser", "seccompProfile_restricted"],
        "PSA's run order"
    );
    // Swapped, the `else` branch's findings are seen too (its fixes are not offered: they were
    // computed with the other branch set aside).
    let swapped = template
        .replace("if .Values.root", "if .Values.safe")
        .replacen(
            "  securityContext:\n    runAsUser: 0\n",
            "  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: Localhost}\n",
            1,
        )
        .replacen(
            "  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: Localhost}\n  {{- end }}",
            "  securityContext:\n    runAsUser: 0\n  {{- end }}",
            1,
        );
    let analysis = analyze(
        &swapped,
        &Options {
            with_fixes: true,
            ..Options::default()
        },
    );
    let run_as_user = analysis.objects[0]
        .violations
        .iter()
        .find(|v| v.check.id == "runAsUser");
    assert!(
        run_as_user.is_some_and(
            |v| v.locations[0].span.start == swapped.find("runAsUser: 0").unwrap()
                && v.locations[0].fix.is_none()
        ),
        "{swapped}"
    );
}

#[test]
fn chart_templates_name_each_action_and_claim_no_verdict_on_a_templated_value() {
    let template = "kind: Pod\nmetadata: {name: web}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: {{ .Values.aaaaa }}\n    securityContext: {privileged: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n  - name: {{ .Values.bbbbb }}\n    securityContext:\n      privileged: true\n      capabilities: {drop: [ALL], add: [{{ .Values.capAB }}]}\n  - name: {{ .Chart.Name }}\n    securityContext: {privileged: {{ .Values.privileged }}, allowPrivilegeEscalation: {{ .Values.ape }}, capabilities: {drop: [ALL]}}\n";
    let options = Options {
        with_fixes: true,
        ..Options::default()
    };
    let analysis = analyze(template, &options);
    let object = &analysis.objects[0];
    let details: Vec<(&str, &str)> = object
        .violations
        .iter()
        .map(|v| (v.check.id, v.detail.as_str()))
        .collect();
    // Two actions of the same length keep their own names; the templated capability and
    // allowPrivilegeEscalation are not claimed as violations (a templated `privileged` is no
    // `true`, so it never was).
    assert_eq!(
        details,
        [
            (
                "privileged",
                "containers \"{{ .Values.aaaaa }}\", \"{{ .Values.bbbbb }}\" must not set securityContext.privileged=true"
            ),
            (
                "allowPrivilegeEscalation",
                "containers \"{{ .Values.bbbbb }}\", \"{{ .Chart.Name }}\" must set securityContext.allowPrivilegeEscalation=false"
            ),
        ]
    );
    let unknown: Vec<&str> = analysis
        .problems
        .iter()
        .filter(|p| p.code == "helm-value")
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(
        unknown,
        [
            "Helm template: allowPrivilegeEscalation depends on `{{ .Values.ape }}`, known only once the chart is rendered (check the rendered chart: helm template … | podsec check -)",
            "Helm template: capabilities_restricted depends on `{{ .Values.capAB }}`, known only once the chart is rendered (check the rendered chart: helm template … | podsec check -)",
        ]
    );
    // Fix titles name the action, not its placeholder.
    let titles: Vec<&str> = object
        .violations
        .iter()
        .flat_map(|v| &v.locations)
        .filter_map(|l| l.fix.as_ref())
        .map(|f| f.title.as_str())
        .collect();
    assert!(
        titles.contains(
            &"Set allowPrivilegeEscalation: false and privileged: false on container \"{{ .Values.bbbbb }}\" (the container loses the host's devices and capabilities)"
        ),
        "{titles:?}"
    );
}

#[test]
fn reusing_documents_gives_what_a_fresh_analysis_gives_through_any_edits() {
    let context = PolicyContext {
        editor_default: Some(Policy::new(Level::Restricted, Version::Latest)),
        ..PolicyContext::default()
    };
    let baseline = Options {
        policy: Policy::new(Level::Baseline, Version::Latest),
        ..Options::default()
    };
    let with_context = Options {
        context: Some(&context),
        ..Options::default()
    };
    let mut reuse = Reuse::default();
    let mut text = STREAM.to_string();
    // A fixed pseudo-random walk of inserts and deletions, some of them document markers.
    let pieces = [
        "x",
        " ",
        "\n",
        ": ",
        "- ",
        "\n---\n",
        // Chart template actions: documents without one are still cached in a template.
        "{{ .Values.x }}",
        "\n{{- if .Values.a }}\n",
        "\n{{- else }}\n",
        "ü",
        "[",
        "}",
        "privileged: true\n",
        " # podsec: exempt privileged -- why\n",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut reused = 0;
    for step in 0..400 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let choice = (seed >> 33) as usize;
        let mut at = choice % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if choice % 3 == 0 && at < text.len() {
            let end = text[at..]
                .char_indices()
                .nth(1 + choice % 7)
                .map_or(text.len(), |(i, _)| at + i);
            text.replace_range(at..end, "");
        } else {
            text.insert_str(at, pieces[choice % pieces.len()]);
        }
        // Options change now and then: the cache must notice.
        let options = if step % 50 < 25 { &baseline } else { &with_context };
        let fresh = analyze(&text, options);
        let hits = reuse.hits();
        let incremental = analyze_reusing(&text, options, &mut reuse);
        assert_eq!(incremental, fresh, "step {step}:\n{text}");
        // Counted only when a document really came from the cache.
        reused += usize::from(reuse.hits() > hits);
    }
    assert!(reused > 300, "documents were reused in {reused} of 400 steps");
}

#[test]
fn reused_documents_move_with_the_text_before_them() {
    let options = Options::default();
    let mut reuse = Reuse::default();
    let first = analyze_reusing(STREAM, &options, &mut reuse);
    let shifted = format!("# one more line\n{STREAM}");
    let second = analyze_reusing(&shifted, &options, &mut reuse);
    assert_eq!(second, analyze(&shifted, &options));
    assert_eq!(second.objects[0].span.start, first.objects[0].span.start + 16);
}

#[test]
fn a_chart_templates_documents_with_actions_are_reused_while_their_placeholders_stay() {
    let options = Options::default();
    let pod = |name: &str| {
        format!(
            "kind: Pod\nmetadata:\n  name: {{{{ .Values.{name} }}}}\nspec:\n  containers:\n  - name: app\n    image: x\n"
        )
    };
    let text = format!("{}---\n{}", pod("first"), pod("second"));
    let mut reuse = Reuse::default();
    analyze_reusing(&text, &options, &mut reuse);
    // An edit in the second document, after the first's placeholders: the first is reused.
    let edited = format!("{text}    securityContext: {{}}\n");
    let hits = reuse.hits();
    let incremental = analyze_reusing(&edited, &options, &mut reuse);
    assert_eq!(incremental, analyze(&edited, &options));
    assert_eq!(reuse.hits(), hits + 1);
    assert_eq!(
        incremental.objects[1].name.as_deref(),
        Some("{{ .Values.second }}")
    );
    // A new action above renumbers the placeholders after it: nothing stale is served.
    let renumbered = format!("# {{{{ .Values.top }}}}\n{edited}");
    let incremental = analyze_reusing(&renumbered, &options, &mut reuse);
    assert_eq!(incremental, analyze(&renumbered, &options));
}

#[test]
fn each_location_gets_psa_words_for_its_own_field() {
    let text = "kind: Pod\nspec:\n  containers:\n  - name: app\n    image: x\n  - name: sidecar\n    image: y\n    securityContext:\n      capabilities:\n        add: [NET_ADMIN]\n";
    let analysis = analyze(text, &Options::default());
    let capabilities = analysis.objects[0]
        .violations
        .iter()
        .find(|v| v.check.id == "capabilities_restricted")
        .unwrap();
    // PSA's detail names every container and both parts ...
    assert_eq!(
        capabilities.detail,
        "containers \"app\", \"sidecar\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"sidecar\" must not include \"NET_ADMIN\" in securityContext.capabilities.add"
    );
    // ... each field only what concerns it.
    let at: Vec<(&str, &str)> = capabilities
        .locations
        .iter()
        .map(|l| (&text[l.span.start..l.span.end], capabilities.message_at(l)))
        .collect();
    assert_eq!(
        at,
        [
            (
                "name: app",
                "container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]"
            ),
            (
                "name: sidecar",
                "container \"sidecar\" must set securityContext.capabilities.drop=[\"ALL\"]"
            ),
            (
                "NET_ADMIN",
                "container \"sidecar\" must not include \"NET_ADMIN\" in securityContext.capabilities.add"
            ),
        ]
    );
}

#[test]
fn a_chart_template_names_its_actions_in_each_locations_words() {
    let text = "kind: Pod\nspec:\n  containers:\n  - name: {{ .Values.app }}\n    image: x\n  - name: sidecar\n    image: y\n";
    let analysis = analyze(text, &Options::default());
    let run_as = analysis.objects[0]
        .violations
        .iter()
        .find(|v| v.check.id == "runAsNonRoot")
        .unwrap();
    let words: Vec<&str> = run_as.locations.iter().map(|l| run_as.message_at(l)).collect();
    assert!(
        words.iter().all(|w| !w.contains("x1x")),
        "a placeholder reached a message: {words:?}"
    );
    assert!(words.iter().any(|w| w.contains("{{ .Values.app }}")), "{words:?}");
}

/// `<<` merge keys, as go-yaml v2 decodes them (what Kubernetes sees).
#[test]
fn merge_keys_read_as_go_yaml_v2_decodes_them() {
    use crate::yaml::parse_stream;
    let text = "defaults: &defaults {a: 1, b: 1, c: 1}\nother: &other {b: 2, d: 2}\nnested: &nested {<<: *other, e: 3}\nderived:\n  a: 0\n  <<: [*defaults, *nested]\n  c: 9\ntagged: {!!merge <<: *other}\nquoted: {\"<<\": *other}\n";
    let stream = parse_stream(text, &Limits::default());
    let root = stream.documents[0].root().unwrap();
    let derived = root.get("derived").unwrap();
    let read = |key: &str| derived.get(key).and_then(|v| v.as_str());
    // Before the merge: overridden by it. In a sequence: the first mapping wins. After it: the key wins.
    assert_eq!(read("a"), Some("1"));
    assert_eq!(read("b"), Some("1"));
    assert_eq!(read("c"), Some("9"));
    assert_eq!(read("d"), Some("2"), "a merge inside a merged mapping");
    assert_eq!(read("e"), Some("3"));
    assert!(derived.get("<<").is_none(), "a merge key is not a key");
    assert_eq!(root.get("tagged").unwrap().get("b").unwrap().as_str(), Some("2"));
    assert!(
        root.get("quoted").unwrap().get("<<").is_some(),
        "a quoted << is an ordinary key"
    );
    // Only the entries written there are the mapping's own (edits go among those).
    let written: Vec<_> = derived
        .written_entries()
        .map(|e| e.key.as_str().unwrap())
        .collect();
    assert_eq!(written, ["a", "c"]);

    // Anything but a mapping or a sequence of mappings: go-yaml v2 refuses the document, at the key.
    for value in ["x", "[*s]", "", "[{a: 1}, b]"] {
        let text = format!("base: &s x\nderived: {{<<: {value}}}\n");
        let stream = parse_stream(&text, &Limits::default());
        let error = stream.documents[0].error.as_ref().expect(&text);
        assert_eq!(
            error.message,
            "map merge requires map or sequence of maps as the value"
        );
        assert_eq!(&text[error.span.start..error.span.end], "<<", "{text}");
    }
}

/// A setting that reaches a container only through `<<: *base` is checked as PSA checks it, and its fix
/// edits the text that sets it.
#[test]
fn a_merged_setting_is_checked_and_fixed_where_it_is_written() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: merged\nspec:\n  containers:\n  - &base\n    name: app\n    image: nginx\n    securityContext:\n      privileged: true\n  - <<: *base\n    name: sidecar\n";
    let options = Options {
        policy: Policy::new(Level::Baseline, Version::Latest),
        ..Options::default()
    };
    let analysis = analyze(text, &options);
    let privileged = analysis.objects[0]
        .violations
        .iter()
        .find(|v| v.check.id == "privileged")
        .unwrap();
    assert_eq!(
        privileged.detail,
        "containers \"app\", \"sidecar\" must not set securityContext.privileged=true"
    );
    for location in &privileged.locations {
        assert_eq!(&text[location.span.start..location.span.end], "privileged: true");
    }
    let fixed = crate::fix_all::fix_all(text, &options, true);
    assert_eq!(
        fixed.text,
        text.replace(
            "    securityContext:\n      privileged: true\n",
            "    securityContext:\n"
        )
    );
    assert!(analyze(&fixed.text, &options).objects[0].violations.is_empty());
}

/// A pod's spec with one violation (`privileged`), for documents whose kind decides whether it is read.
const PRIVILEGED_SPEC: &str =
    "spec:\n  containers:\n  - name: c\n    image: x\n    securityContext: {privileged: true}\n";

/// The analysis that reads every document whole, as before documents of other kinds were skipped.
fn analyze_every_document(text: &str, options: &Options<'_>) -> Analysis {
    analyze_documents(text, options, None, &|_| true)
}

#[test]
fn skipping_documents_of_other_kinds_changes_no_verdict() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n";
    let big_spec = format!(
        "versions:\n{}",
        "  - name: v1\n    schema: {openAPIV3Schema: {type: object, properties: {kind: {type: string}}}}\n"
            .repeat(200)
    );
    // Each text, and how many pod-bearing objects it holds.
    let cases: Vec<(String, usize)> = vec![
        // Tags and anchors: the kind is not taken as certain, the document is read whole.
        (format!("kind: !!str Pod\n{PRIVILEGED_SPEC}"), 1),
        (format!("!!str kind: Pod\n{PRIVILEGED_SPEC}"), 1),
        (format!("x: &k Pod\nkind: *k\n{PRIVILEGED_SPEC}"), 1),
        (format!("&a kind: ConfigMap\n{PRIVILEGED_SPEC}*a : x\n"), 0),
        // A quoted key, flow style.
        (format!("\"kind\": Pod\n{PRIVILEGED_SPEC}"), 1),
        (format!("kind: ConfigMap\n{PRIVILEGED_SPEC}\"kind\": Pod\n"), 1),
        ("{kind: ConfigMap, spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}, kind: Pod}\n".to_string(), 1),
        // A duplicate kind later in the document, and the kind after a large spec.
        (format!("{crd}{PRIVILEGED_SPEC}kind: Pod\n"), 1),
        (format!("{PRIVILEGED_SPEC}{big_spec}kind: Pod\n"), 1),
        (format!("{PRIVILEGED_SPEC}{big_spec}kind: CustomResourceDefinition\n"), 0),
        // A List of Pods, and a ConfigMapList whose items hold one.
        (format!("apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  {}", PRIVILEGED_SPEC.replace('\n', "\n  ")), 1),
        (format!("kind: ConfigMapList\nitems:\n- kind: Pod\n  {}", PRIVILEGED_SPEC.replace('\n', "\n  ")), 1),
        // Skipped: a CRD holding pod-like fields, then a Namespace, a Pod and a PodSecurityPolicy in the same stream.
        (format!("{crd}{PRIVILEGED_SPEC}{big_spec}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n---\nkind: Pod\n{PRIVILEGED_SPEC}---\nkind: PodSecurityPolicy\nspec: {{privileged: true}}\n"), 1),
        // Skipped, with a pod-bearing kind deeper inside (a CRD's schema, a ConfigMap's data).
        (format!("kind: ConfigMap\ndata:\n  kind: Pod\n  {}", PRIVILEGED_SPEC.replace('\n', "\n  ")), 0),
    ];
    for (text, objects) in &cases {
        let options = Options::default();
        let skipping = analyze(text, &options);
        assert_eq!(skipping, analyze_every_document(text, &options), "{text}");
        assert_eq!(skipping.objects.len(), *objects, "{text}");
        assert!(
            skipping.objects.iter().all(|o| !o.violations.is_empty()),
            "{text}"
        );
        assert!(skipping.problems.is_empty(), "{text}");
        let mut reuse = Reuse::default();
        assert_eq!(analyze_reusing(text, &options, &mut reuse), skipping, "{text}");
    }
    // The one PodSecurityPolicy of the stream is still assessed.
    assert_eq!(
        analyze(&cases[12].0, &Options::default()).config_problems.len(),
        1
    );
    // And the Namespace after the CRD is still read for its labels.
    let labelled = format!(
        "{crd}{big_spec}---\nkind: Namespace\nmetadata:\n  name: team\n  labels: {{pod-security.kubernetes.io/enforce: baseline}}\n"
    );
    let namespaces = crate::policy::namespace_labels(&labelled, &Limits::default());
    assert_eq!(namespaces.len(), 1);
    assert_eq!(namespaces[0].name, "team");
}

#[test]
fn a_syntax_error_after_the_kind_of_a_skipped_document_is_not_reported() {
    // The decision: a document that is not analysed is read no further than its kind. Before the kind, or in a
    // document that is analysed, a syntax error is reported as ever.
    // (The Pod comes first: kubectl stops at a file's first error, and sends nothing after it; a syntax error
    // that skipping does not see cannot stop the analysis either, so the Pod after it would still be judged,
    // which errs on the side of the finding.)
    let text = format!("kind: Pod\n{PRIVILEGED_SPEC}---\nkind: CustomResourceDefinition\nspec: [broken\n");
    let options = Options::default();
    let skipping = analyze(&text, &options);
    let whole = analyze_every_document(&text, &options);
    assert_eq!(skipping.objects, whole.objects);
    assert_eq!(skipping.problems, []);
    assert_eq!(whole.problems.len(), 1);
    assert_eq!(whole.problems[0].code, "syntax-error");
    for reported in [
        "spec: [broken\nkind: CustomResourceDefinition\n".to_string(),
        format!("kind: Pod\n{PRIVILEGED_SPEC}x: [broken\n"),
        "kind: CustomResourceDefinition\nspec: [broken\nkind: Pod\n".to_string(),
    ] {
        let problems = analyze(&reported, &options).problems;
        assert_eq!(problems.len(), 1, "{reported}");
        assert_eq!(
            problems,
            analyze_every_document(&reported, &options).problems,
            "{reported}"
        );
    }
}

/// Merges of merges double at each level: refused as a limit before they fill memory.
#[test]
fn a_merge_key_bomb_is_refused_before_it_fills_memory() {
    let mut text = String::from("a: &a {x: 1, y: 2}\n");
    for level in 1..40 {
        let below = if level == 1 {
            "a".to_string()
        } else {
            format!("b{}", level - 1)
        };
        text.push_str(&format!(
            "b{level}: &b{level} {{<<: [*{below}, *{below}], z{level}: 1}}\n"
        ));
    }
    text.push_str("kind: Pod\nspec: {containers: [{name: c, image: x, securityContext: {<<: *b39}}]}\n");
    let analysis = analyze(&text, &Options::default());
    assert_eq!(analysis.problems.len(), 1, "{:?}", analysis.problems);
    // go-yaml's alias guard trips first (a merge decodes its aliases); the merge limit stays the backstop.
    assert_eq!(analysis.problems[0].code, "syntax-error");
    assert_eq!(
        analysis.problems[0].message,
        "document contains excessive aliasing"
    );
    // Without the guard's help (few nodes through aliases each time), the merge limit still holds.
    let limits = Limits {
        max_expanded_nodes: 1_000,
        ..Limits::default()
    };
    let small = "a: &a {x: 1, y: 2}\nb1: &b1 {<<: [*a, *a], z1: 1}\nb2: &b2 {<<: [*b1, *b1], z2: 1}\nb3: {<<: [*b2, *b2]}\n";
    let refused = crate::yaml::parse_stream(
        small,
        &Limits {
            max_expanded_nodes: 10,
            ..limits
        },
    )
    .documents
    .remove(0)
    .error
    .unwrap();
    assert!(
        refused.message.starts_with("merge keys expand this document"),
        "{}",
        refused.message
    );
}

/// kubectl stops reading a file at its first error: what follows is never sent, so it is named, not judged.
#[test]
fn what_kubectl_never_sends_is_named_not_judged() {
    let pod = format!("kind: Pod\nmetadata: {{name: p}}\n{PRIVILEGED_SPEC}");
    let options = Options::default();
    for broken in ["a: [broken\n", "a: !!int abc\n", "a: 1\n--- {b: 2}\n"] {
        let text = format!("{broken}---\n{pod}");
        let analysis = analyze(&text, &options);
        assert_eq!(analysis.objects, [], "{text}");
        let codes: Vec<_> = analysis.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["syntax-error", "not-sent"], "{text}");
        let note = &analysis.problems[1];
        assert!(
            note.message.starts_with(
                "kubectl never sends this Pod \"p\": it stops reading the file at its first error ("
            ),
            "{}",
            note.message
        );
        assert_eq!(&text[note.span.start..note.span.start + 9], "kind: Pod");
        // The editor's cache gives the same.
        let mut reuse = crate::analysis::Reuse::default();
        assert_eq!(
            crate::analysis::analyze_reusing(&text, &options, &mut reuse),
            analysis
        );
        assert_eq!(
            crate::analysis::analyze_reusing(&text, &options, &mut reuse),
            analysis
        );
    }
    // After `...` go-yaml reads nothing: what follows is named too, and the document before it is judged.
    let text = format!("{pod}...\n{pod}");
    let analysis = analyze(&text, &options);
    assert_eq!(analysis.objects.len(), 1);
    let codes: Vec<_> = analysis.problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["not-sent"]);
    assert_eq!(analysis.problems[0].span.start, pod.len() + 4);
    // A pod before the error is sent and judged.
    let text = format!("{pod}---\na: [broken\n---\n{pod}");
    let analysis = analyze(&text, &options);
    assert_eq!(analysis.objects.len(), 1);
}

#[test]
fn a_finding_of_a_controller_owned_object_is_reported_once_on_its_highest_owner() {
    // A Job owned by a CronJob, and the Pod the Job created with one container more: the CronJob reports
    // the template's finding; the Job and Pod set theirs aside naming it; the Pod keeps its own container's.
    let owner = |kind: &str, name: &str| {
        format!(
            "ownerReferences: [{{apiVersion: batch/v1, kind: {kind}, name: {name}, controller: true, uid: u}}]"
        )
    };
    let job_spec = "template:\n      spec:\n        containers: [{name: app, image: x, securityContext: {privileged: true}}]";
    let text = format!(
        "apiVersion: v1\nkind: List\nitems:\n\
         - apiVersion: v1\n  kind: Pod\n  metadata: {{name: nightly-1-x, namespace: ops, {}}}\n  spec:\n    hostPID: true\n    containers: [{{name: app, image: x, securityContext: {{privileged: true}}}}]\n\
         - apiVersion: batch/v1\n  kind: Job\n  metadata: {{name: nightly-1, namespace: ops, {}}}\n  spec:\n    {job_spec}\n\
         - apiVersion: batch/v1\n  kind: CronJob\n  metadata: {{name: nightly, namespace: ops}}\n  spec:\n    schedule: '@daily'\n    jobTemplate:\n      spec:\n        {}\n",
        owner("Job", "nightly-1"),
        owner("CronJob", "nightly"),
        job_spec.replace("\n      ", "\n            "),
    );
    let options = Options {
        policy: Policy::new(Level::Baseline, Version::Latest),
        ..Options::default()
    };
    let analysis = analyze(&text, &options);
    let by_kind = |kind: &str| analysis.objects.iter().find(|o| o.kind == kind).unwrap();
    let ids = |violations: &[CheckViolation]| violations.iter().map(|v| v.check.id).collect::<Vec<_>>();
    assert_eq!(ids(&by_kind("CronJob").violations), ["privileged"], "{text}");
    for kind in ["Job", "Pod"] {
        let object = by_kind(kind);
        assert_eq!(object.exempted.len(), 1, "{kind}: {text}");
        assert_eq!(object.exempted[0].0.check.id, "privileged");
        assert_eq!(
            object.exempted[0].1,
            "reported once, on its owner CronJob \"nightly\""
        );
    }
    assert_eq!(ids(&by_kind("Pod").violations), ["hostNamespaces"]);
    // Without its owners in the text, the Pod reports everything.
    let alone = analyze(&text[..text.find("- apiVersion: batch/v1").unwrap()], &options);
    assert_eq!(
        ids(&alone.objects[0].violations),
        ["hostNamespaces", "privileged"]
    );
}

/// The checks with a violation in `analysis`'s objects, and the checks that are `helm-value` information.
fn verdicts(analysis: &Analysis) -> (Vec<&'static str>, Vec<String>) {
    let violations = analysis
        .objects
        .iter()
        .flat_map(|o| &o.violations)
        .map(|v| v.check.id)
        .collect();
    let values = analysis
        .problems
        .iter()
        .filter(|p| p.code == "helm-value")
        .map(|p| {
            assert_eq!(p.severity, Severity::Information);
            p.message.clone()
        })
        .collect();
    (violations, values)
}

/// A chart template's Deployment: the pod spec's lines given, at the pod spec's indentation (6).
fn deployment_template(pod_spec: &str) -> String {
    format!(
        "apiVersion: {{{{ include \"common.capabilities.deployment.apiVersion\" . }}}}\nkind: Deployment\nmetadata:\n  name: {{{{ include \"web.fullname\" . }}}}\n  labels: {{{{- include \"web.labels\" . | nindent 4 }}}}\nspec:\n  template:\n    metadata:\n      labels: {{{{- include \"web.labels\" . | nindent 8 }}}}\n    spec:\n{pod_spec}"
    )
}

#[test]
fn a_literal_field_beside_an_include_is_a_finding() {
    // An include among the pod spec's keys may write anything there, but not undo a literal value.
    let template = deployment_template(
        "      {{- include \"web.imagePullSecrets\" . | nindent 6 }}\n      hostPID: true\n      containers:\n      - name: app\n        image: x\n        securityContext:\n          privileged: true\n          {{- toYaml .Values.extra | nindent 10 }}\n",
    );
    let analysis = analyze(
        &template,
        &Options {
            policy: Policy::new(Level::Baseline, Version::Latest),
            ..Options::default()
        },
    );
    let (violations, values) = verdicts(&analysis);
    assert_eq!(violations, ["hostNamespaces", "privileged"]);
    assert!(values.is_empty(), "{values:?}");
    let privileged = &analysis.objects[0].violations[1].locations[0];
    assert_eq!(privileged.span.start, template.find("privileged: true").unwrap());
    // No note per document: the text is marked as a chart template read statically.
    assert!(analysis.chart_template);
    assert!(analysis.problems.iter().all(|p| p.code != "helm-template"));
}

#[test]
fn what_a_structural_action_could_write_depends_on_values() {
    // The pod's securityContext comes from values: runAsNonRoot and seccompProfile may be set there for
    // every container. The first container's own securityContext comes from values too; the second
    // container's is literal and lacks allowPrivilegeEscalation and the capabilities drop: those
    // are findings.
    let template = deployment_template(
        "      securityContext:\n        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n      containers:\n      - name: app\n        image: x\n        securityContext: {{- toYaml .Values.securityContext | nindent 10 }}\n      - name: sidecar\n        image: y\n        securityContext:\n          readOnlyRootFilesystem: true\n",
    );
    let analysis = analyze(&template, &Options::default());
    let (violations, values) = verdicts(&analysis);
    assert_eq!(
        violations,
        ["allowPrivilegeEscalation", "capabilities_restricted"]
    );
    let object = &analysis.objects[0];
    let sidecar = template.find("name: sidecar").unwrap();
    assert!(
        object
            .violations
            .iter()
            .all(|v| v.locations.len() == 1 && v.locations[0].span.start == sidecar),
        "{:#?}",
        object.violations
    );
    let pod = "`{{- toYaml .Values.podSecurityContext | nindent 8 }}`";
    let app = "`{{- toYaml .Values.securityContext | nindent 10 }}`";
    let expected: Vec<String> = [
        ("allowPrivilegeEscalation", app),
        ("capabilities_restricted", app),
        // The first container's own securityContext is the nearest place to set them, the pod's the
        // sidecar's.
        ("runAsNonRoot", pod),
        ("runAsNonRoot", app),
        ("seccompProfile_restricted", pod),
        ("seccompProfile_restricted", app),
    ]
    .iter()
    .map(|(check, action)| {
        format!(
            "Helm template: {check} depends on {action}, known only once the chart is rendered (check the rendered chart: helm template … | podsec check -)"
        )
    })
    .collect();
    let mut sorted = values.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    // PSA's lines name only what is still a finding.
    let failures: Vec<&str> = object.mode_lines[0].failures.iter().map(|f| f.check.id).collect();
    assert_eq!(failures, ["allowPrivilegeEscalation", "capabilities_restricted"]);
}

#[test]
fn an_include_among_the_pod_specs_keys_may_write_its_security_context() {
    let template = deployment_template(
        "      {{- include \"web.podDefaults\" . | nindent 6 }}\n      containers:\n      - name: app\n        image: x\n        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n",
    );
    let (violations, values) = verdicts(&analyze(&template, &Options::default()));
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(values.len(), 2, "{values:?}");
    assert!(
        values
            .iter()
            .all(|v| v.contains("`{{- include \"web.podDefaults\" . | nindent 6 }}`"))
    );
    // Without it, the same pod fails: the include is what makes the verdict unknown.
    let plain = template.replace("      {{- include \"web.podDefaults\" . | nindent 6 }}\n", "");
    let (violations, values) = verdicts(&analyze(&plain, &Options::default()));
    assert_eq!(violations, ["runAsNonRoot", "seccompProfile_restricted"]);
    assert!(values.is_empty());
    // An include that writes into another mapping (the pod's labels) settles nothing of the pod spec.
    let labels = template.replace(
        "      {{- include \"web.podDefaults\" . | nindent 6 }}\n",
        "      nodeSelector:\n        {{- include \"web.nodeSelector\" . | nindent 8 }}\n",
    );
    let (violations, _) = verdicts(&analyze(&labels, &Options::default()));
    assert_eq!(violations, ["runAsNonRoot", "seccompProfile_restricted"]);
}

#[test]
fn an_action_inside_a_block_scalar_writes_text_not_structure() {
    // A script with template actions (alone on their lines, piped through nindent, an `else` whose
    // other side is set aside) in a pod that is otherwise plain: every document is read, and the
    // literal findings stand.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\ndata:\n  run.sh: |\n    {{- include \"script\" . | nindent 4 }}\n    echo {{ .Values.x }}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: x\n    command: [sh, -c]\n    args:\n    - |\n      {{- range .Items }}\n      {{- if .On }}\n      echo {{ .Name }} {{ toYaml . | nindent 6 }}\n      {{- else }}\n      echo off\n      {{- end }}\n      {{- end }}\n    securityContext:\n      privileged: true\n";
    let analysis = analyze(
        text,
        &Options {
            policy: Policy::new(Level::Baseline, Version::Latest),
            ..Options::default()
        },
    );
    assert!(analysis.problems.is_empty(), "{:#?}", analysis.problems);
    assert!(analysis.unread_templates.is_empty());
    let (violations, _) = verdicts(&analysis);
    assert_eq!(violations, ["privileged"]);
}

#[test]
fn a_template_that_is_not_yaml_once_neutralised_is_data_not_a_finding() {
    let text = "kind: Pod\nspec:\n  containers: {{ .Values.a }}: [\n---\nkind: Pod\nmetadata: {name: b}\nspec:\n  hostPID: true\n  containers: [{name: c, image: x}]\n";
    let analysis = analyze(
        text,
        &Options {
            policy: Policy::new(Level::Baseline, Version::Latest),
            ..Options::default()
        },
    );
    assert!(analysis.chart_template);
    assert!(analysis.problems.is_empty(), "{:#?}", analysis.problems);
    assert_eq!(analysis.unread_templates.len(), 1);
    assert_eq!(analysis.unread_templates[0].code, "helm-template");
    assert_eq!(analysis.unread_templates[0].document, 0);
    assert_eq!(verdicts(&analysis).0, ["hostNamespaces"]);
    assert!(!analyze("kind: Pod\n", &Options::default()).chart_template);
}

#[test]
fn a_templated_kind_reads_as_the_pod_bearing_kind_it_names() {
    let body = "metadata:\n  name: db\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers: [{name: c, image: x}]\n";
    let options = Options {
        policy: Policy::new(Level::Baseline, Version::Latest),
        ..Options::default()
    };
    let ternary = format!("kind: {{{{ ternary \"StatefulSet\" \"Deployment\" .Values.sts }}}}\n{body}");
    let analysis = analyze(&ternary, &options);
    assert_eq!(analysis.objects.len(), 1);
    assert_eq!(analysis.objects[0].kind, "StatefulSet");
    assert_eq!(verdicts(&analysis).0, ["hostNamespaces"]);
    // A kind from values names none: the document is not a known workload.
    let from_values = format!("kind: {{{{ .Values.kind }}}}\n{body}");
    assert!(analyze(&from_values, &options).objects.is_empty());
    // Nor is a kind that names no pod-bearing one.
    let config = format!("kind: {{{{ ternary \"Secret\" \"ConfigMap\" .Values.s }}}}\n{body}");
    assert!(analyze(&config, &options).objects.is_empty());
}
