//! `podsec export vap`, proven rather than believed: the exported ValidatingAdmissionPolicy is evaluated
//! with an independent CEL implementation (the `cel` crate, cel-rust), as the API server evaluates it —
//! `object`, `oldObject`, `request`, `namespaceObject`, `params`, the match conditions, then the
//! variables in order, then each validation and, when it fails, its `messageExpression` — on every
//! upstream fixture at its level and version and on each fixture wrapped in every pod-bearing kind. The
//! failing check IDs must be PSA's (`expected.tsv`), and each message must be podsec's own
//! `<check>: <reason> (<detail>)`, which the conformance test holds to PSA's.
//!
//! cel-rust has CEL's standard library; the few functions of Kubernetes' environment the policy uses
//! (`join`, `split`, `trim`, `substring`, `strings.quote` from cel-go's strings extension, `indexOf` from
//! Kubernetes' list library) are written below from their documentation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use cel::extractors::This;
use cel::objects::{Key, Map};
use cel::{Context, ExecutionError, Program, Value};
use common::{fixtures_dir, podsec, read_expectations, stdout};
use podsec_engine::yaml::{Limits, NodeRef, documents};
use podsec_engine::{Level, Options, Policy, Version, analyze};
use std::collections::HashMap;
use std::sync::Arc;

/// One exported policy, compiled.
struct Exported {
    match_conditions: Vec<Program>,
    variables: Vec<(String, Program)>,
    /// Check ID, expression, message expression.
    validations: Vec<(String, Program, Program)>,
}

/// What one admission request gives: allowed, or the failing checks with their messages.
#[derive(Debug, PartialEq, Eq)]
struct Decision {
    matched: bool,
    failing: Vec<(String, String)>,
}

/// `podsec export vap` for `policy`, its YAML read and every expression compiled.
fn export(policy: Policy, extra: &[&str]) -> (String, Exported) {
    let level = policy.level.to_string();
    let version = policy.version.to_string();
    // An empty directory: no project file or Namespace of the repository's own reaches the export.
    let empty =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("podsec-vap-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let empty = empty.to_string_lossy().into_owned();
    let mut args = vec!["export", "vap", "--level", &level, "--policy-version", &version];
    args.extend(extra);
    if extra.is_empty() {
        args.push(&empty);
    }
    let output = podsec(&args);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let text = stdout(&output);
    let exported = compile(&text, &podsec_engine::vap::policy_name(policy));
    (text, exported)
}

/// Reads the policy document named `name` from the export's YAML stream and compiles its expressions.
fn compile(text: &str, name: &str) -> Exported {
    let limits = Limits {
        max_document_bytes: 64 << 20,
        ..Limits::default()
    };
    let program = |node: Option<NodeRef<'_>>| {
        let source = node.and_then(|n| n.as_str()).expect("an expression");
        Program::compile(source).unwrap_or_else(|e| panic!("{source}: {e:?}"))
    };
    for document in documents(text, &limits) {
        let root = document.root().unwrap();
        let named = root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.as_str());
        if root.get("kind").and_then(|k| k.as_str()) != Some("ValidatingAdmissionPolicy")
            || named != Some(name)
        {
            continue;
        }
        let spec = root.get("spec").unwrap();
        let items = |key: &str| {
            spec.get(key)
                .into_iter()
                .flat_map(|l| l.items())
                .collect::<Vec<_>>()
        };
        return Exported {
            match_conditions: items("matchConditions")
                .into_iter()
                .map(|c| program(c.get("expression")))
                .collect(),
            variables: items("variables")
                .into_iter()
                .map(|v| {
                    let name = v.get("name").and_then(|n| n.as_str()).unwrap().to_string();
                    (name, program(v.get("expression")))
                })
                .collect(),
            validations: items("validations")
                .into_iter()
                .map(|v| {
                    let message = v.get("message").and_then(|m| m.as_str()).unwrap();
                    let id = message.split(':').next().unwrap().to_string();
                    (
                        id,
                        program(v.get("expression")),
                        program(v.get("messageExpression")),
                    )
                })
                .collect(),
        };
    }
    panic!("no ValidatingAdmissionPolicy {name} in the export:\n{text}");
}

/// A YAML node as the API server hands an object to CEL: mappings, lists, strings, integers, booleans;
/// a null is an absent field.
fn to_value(node: NodeRef<'_>) -> Value {
    if node.is_mapping() {
        let mut map: HashMap<Key, Value> = HashMap::new();
        for entry in node.entries() {
            if entry.value.is_null() {
                continue;
            }
            let key = entry.key.as_str().unwrap_or("").to_string();
            map.insert(Key::String(Arc::new(key)), to_value(entry.value));
        }
        return Value::Map(Map { map: Arc::new(map) });
    }
    if node.is_sequence() {
        return Value::List(Arc::new(node.items().map(to_value).collect()));
    }
    if node.is_null() {
        return Value::Null;
    }
    if let Some(flag) = node.as_bool() {
        return Value::Bool(flag);
    }
    if let Some(number) = node.as_i64() {
        return Value::Int(number);
    }
    Value::String(Arc::new(node.as_str().unwrap_or("").to_string()))
}

fn string_map(entries: &[(&str, Value)]) -> Value {
    let map: HashMap<Key, Value> = entries
        .iter()
        .map(|(k, v)| (Key::String(Arc::new((*k).to_string())), v.clone()))
        .collect();
    Value::Map(Map { map: Arc::new(map) })
}

fn text(value: &str) -> Value {
    Value::String(Arc::new(value.to_string()))
}

/// The functions of Kubernetes' CEL environment that cel-rust lacks, from their documentation.
fn kubernetes_functions(context: &mut Context<'_>) {
    // strings extension: `list.join(separator)`.
    context.add_function(
        "join",
        |This(list): This<Arc<Vec<Value>>>, separator: Arc<String>| -> Result<Value, ExecutionError> {
            let mut parts = Vec::new();
            for item in list.iter() {
                match item {
                    Value::String(s) => parts.push(s.as_str().to_string()),
                    other => return Err(ExecutionError::function_error("join", format!("{other:?}"))),
                }
            }
            Ok(text(&parts.join(separator.as_str())))
        },
    );
    // strings extension: `string.split(separator)`.
    context.add_function(
        "split",
        |This(s): This<Arc<String>>, separator: Arc<String>| -> Result<Value, ExecutionError> {
            Ok(Value::List(Arc::new(
                s.split(separator.as_str()).map(text).collect(),
            )))
        },
    );
    // strings extension: `string.trim()`, Unicode white space at both ends.
    context.add_function(
        "trim",
        |This(s): This<Arc<String>>| -> Result<Value, ExecutionError> { Ok(text(s.trim())) },
    );
    // strings extension: `string.substring(start)`, in code points.
    context.add_function(
        "substring",
        |This(s): This<Arc<String>>, start: i64| -> Result<Value, ExecutionError> {
            let start = usize::try_from(start)
                .map_err(|_| ExecutionError::function_error("substring", "negative"))?;
            Ok(text(&s.chars().skip(start).collect::<String>()))
        },
    );
    // Kubernetes' list library: `list.indexOf(value)`, -1 when absent.
    context.add_function(
        "indexOf",
        |This(list): This<Arc<Vec<Value>>>, wanted: Value| -> i64 {
            list.iter()
                .position(|item| *item == wanted)
                .map_or(-1, |i| i64::try_from(i).unwrap())
        },
    );
    // strings extension: `strings.quote(string)`, double quotes with `\`, `"` and control characters escaped.
    context.add_function(
        "strings.quote",
        |s: Arc<String>| -> Result<Value, ExecutionError> {
            let mut quoted = String::from("\"");
            for c in s.chars() {
                match c {
                    '\\' => quoted.push_str("\\\\"),
                    '"' => quoted.push_str("\\\""),
                    '\n' => quoted.push_str("\\n"),
                    '\r' => quoted.push_str("\\r"),
                    '\t' => quoted.push_str("\\t"),
                    '\u{7}' => quoted.push_str("\\a"),
                    '\u{8}' => quoted.push_str("\\b"),
                    '\u{c}' => quoted.push_str("\\f"),
                    '\u{b}' => quoted.push_str("\\v"),
                    c => quoted.push(c),
                }
            }
            quoted.push('"');
            Ok(text(&quoted))
        },
    );
}

/// The context of a CREATE of `object` (of `kind`) in `namespace`, as the API server gives it to a policy.
fn admission_context(object: &Value, kind: &str, namespace: &str) -> Context<'static> {
    request_context(object, kind, namespace, None)
}

/// The context of a CREATE, or of an UPDATE from `old`.
fn request_context(object: &Value, kind: &str, namespace: &str, old: Option<&Value>) -> Context<'static> {
    let mut context = Context::default();
    kubernetes_functions(&mut context);
    let (group, version) = match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => ("apps", "v1"),
        "Job" | "CronJob" => ("batch", "v1"),
        _ => ("", "v1"),
    };
    let gvk = string_map(&[
        ("group", text(group)),
        ("version", text(version)),
        ("kind", text(kind)),
    ]);
    let request = string_map(&[
        ("operation", text(if old.is_some() { "UPDATE" } else { "CREATE" })),
        ("namespace", text(namespace)),
        ("kind", gvk),
        ("subResource", text("")),
        ("dryRun", Value::Bool(false)),
    ]);
    let namespace_object = string_map(&[("metadata", string_map(&[("name", text(namespace))]))]);
    context.add_variable_from_value("object", object.clone());
    context.add_variable_from_value("oldObject", old.cloned().unwrap_or(Value::Null));
    context.add_variable_from_value("request", request);
    context.add_variable_from_value("namespaceObject", namespace_object);
    context.add_variable_from_value("params", Value::Null);
    context
}

/// Evaluates the policy on a CREATE of `object` in `namespace`, as the API server does.
fn admit(exported: &Exported, object: &Value, kind: &str, namespace: &str) -> Decision {
    let mut context = admission_context(object, kind, namespace);
    let evaluate = |program: &Program, context: &Context<'_>| {
        program
            .execute(context)
            .unwrap_or_else(|e| panic!("{kind} in {namespace}: {e:?} in {:?}", program.expression()))
    };
    for condition in &exported.match_conditions {
        if evaluate(condition, &context) != Value::Bool(true) {
            return Decision {
                matched: false,
                failing: Vec::new(),
            };
        }
    }
    let mut variables: Vec<(&str, Value)> = Vec::new();
    for (name, program) in &exported.variables {
        context.add_variable_from_value("variables", string_map(&variables));
        let value = evaluate(program, &context);
        variables.push((name, value));
    }
    context.add_variable_from_value("variables", string_map(&variables));
    let mut failing = Vec::new();
    for (id, expression, message) in &exported.validations {
        match evaluate(expression, &context) {
            Value::Bool(true) => {}
            Value::Bool(false) => match evaluate(message, &context) {
                Value::String(message) => failing.push((id.clone(), message.as_str().to_string())),
                other => panic!("{id}: message {other:?}"),
            },
            other => panic!("{id}: {other:?}"),
        }
    }
    Decision {
        matched: true,
        failing,
    }
}

/// podsec's own verdict: the failing checks and `<check>: <reason> (<detail>)`.
fn podsec_verdict(text: &str, policy: Policy) -> Vec<(String, String)> {
    let analysis = analyze(
        text,
        &Options {
            policy,
            ..Options::default()
        },
    );
    analysis
        .objects
        .iter()
        .flat_map(|o| &o.violations)
        .map(|v| {
            let message = if v.detail.is_empty() {
                format!("{}: {}", v.check.id, v.reason)
            } else {
                format!("{}: {} ({})", v.check.id, v.reason, v.detail)
            };
            (v.check.id.to_string(), message)
        })
        .collect()
}

fn object_of(text: &str) -> Value {
    let document = documents(text, &Limits::default()).next().unwrap();
    to_value(document.root().unwrap())
}

/// A fixture Pod wrapped in `kind` (the pod template is the fixture's metadata and spec).
fn wrap(pod: &Value, kind: &str) -> Value {
    let Value::Map(map) = pod else { panic!("a pod") };
    let field = |key: &str| {
        map.map
            .get(&Key::String(Arc::new(key.to_string())))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let template = string_map(&[("metadata", field("metadata")), ("spec", field("spec"))]);
    let api = match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "v1",
    };
    let metadata = string_map(&[("name", text("wrapper")), ("namespace", text("fixtures"))]);
    let body = match kind {
        "PodTemplate" => ("template", template),
        "CronJob" => (
            "spec",
            string_map(&[
                ("schedule", text("* * * * *")),
                (
                    "jobTemplate",
                    string_map(&[("spec", string_map(&[("template", template)]))]),
                ),
            ]),
        ),
        _ => (
            "spec",
            string_map(&[("replicas", Value::Int(1)), ("template", template)]),
        ),
    };
    string_map(&[
        ("apiVersion", text(api)),
        ("kind", text(kind)),
        ("metadata", metadata),
        body,
    ])
}

const WORKLOAD_KINDS: [&str; 8] = [
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "PodTemplate",
];

/// Runs `test` on a thread with a deep stack: cel-rust's parser and evaluator recurse over the
/// expression tree, and the policy's expressions are long chains.
fn with_deep_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(test)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_exported_policy_judges_every_fixture_and_wrapped_workload_as_psa() {
    with_deep_stack(every_fixture_and_wrapped_workload);
}

fn every_fixture_and_wrapped_workload() {
    let dir = fixtures_dir();
    let rows = read_expectations();
    let mut policies: HashMap<(String, String), Exported> = HashMap::new();
    let (mut fixtures_agreeing, mut wrapped_agreeing, mut wrapped_total) = (0, 0, 0);
    let (mut messages_agreeing, mut messages_total) = (0, 0);
    let mut mismatches = Vec::new();
    for row in &rows {
        let policy = Policy::new(
            Level::parse(&row.level).unwrap(),
            Version::parse(&row.version).unwrap(),
        );
        let exported = policies
            .entry((row.level.clone(), row.version.clone()))
            .or_insert_with(|| export(policy, &[]).1);
        let source = std::fs::read_to_string(dir.join(&row.path)).unwrap();
        let expected: Vec<&str> = row.all_failing.split(',').filter(|s| !s.is_empty()).collect();
        let ours = podsec_verdict(&source, policy);
        let pod = object_of(&source);
        let mut judge = |object: &Value, kind: &str, label: String, agreeing: &mut usize| {
            let decision = admit(exported, object, kind, "fixtures");
            let ids: Vec<&str> = decision.failing.iter().map(|(id, _)| id.as_str()).collect();
            if decision.matched && ids == expected {
                *agreeing += 1;
            } else {
                mismatches.push(format!("{label}: PSA {expected:?}, policy {ids:?}"));
            }
            for ((id, message), (_, podsec_message)) in decision.failing.iter().zip(&ours) {
                messages_total += 1;
                if message == podsec_message {
                    messages_agreeing += 1;
                } else {
                    mismatches.push(format!(
                        "{label} {id}: message\n  policy {message}\n  podsec {podsec_message}"
                    ));
                }
            }
        };
        judge(&pod, "Pod", row.path.clone(), &mut fixtures_agreeing);
        for kind in WORKLOAD_KINDS {
            wrapped_total += 1;
            judge(
                &wrap(&pod, kind),
                kind,
                format!("{} as {kind}", row.path),
                &mut wrapped_agreeing,
            );
        }
    }
    println!(
        "vap: fixtures {fixtures_agreeing}/{} agree with PSA, wrapped workloads {wrapped_agreeing}/{wrapped_total}, messages {messages_agreeing}/{messages_total} equal podsec's",
        rows.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// A restricted pod that fails `runAsNonRoot` and `allowPrivilegeEscalation`, with `annotations` on the
/// object (and so on its pod template).
fn pod_with_annotations(annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  annotations: {{{annotations}}}\nspec:\n  securityContext:\n    seccompProfile: {{type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: app\n    securityContext:\n      capabilities: {{drop: [ALL]}}\n"
    )
}

fn failing_ids(decision: &Decision) -> Vec<&str> {
    decision.failing.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn the_exemption_annotation_skips_its_check_only_with_a_reason() {
    with_deep_stack(|| {
        let policy = Policy::new(Level::Restricted, Version::Latest);
        let (_, exported) = export(policy, &[]);
        let both = ["allowPrivilegeEscalation", "runAsNonRoot"];
        let mut cases = 0;
        for (annotations, expected) in [
            ("", &both[..]),
            (
                "podsec.dev/exempt.runAsNonRoot: \"the image runs as root until #12\"",
                &both[..1],
            ),
            ("podsec.dev/exempt.runAsNonRoot: \"\"", &both[..]),
            ("podsec.dev/exempt.runAsNonRoot: \"  \"", &both[..]),
            ("podsec.dev/exempt.runasnonroot: \"wrong case\"", &both[..]),
            (
                "podsec.dev/exempt.runAsNonRoot: a, podsec.dev/exempt.allowPrivilegeEscalation: b",
                &[][..],
            ),
        ] {
            let pod = object_of(&pod_with_annotations(annotations));
            // On the Pod, and on the pod template of every workload kind.
            for (object, kind) in std::iter::once((pod.clone(), "Pod"))
                .chain(WORKLOAD_KINDS.iter().map(|kind| (wrap(&pod, kind), *kind)))
            {
                let decision = admit(&exported, &object, kind, "fixtures");
                assert_eq!(failing_ids(&decision), expected, "{kind} with {annotations:?}");
                cases += 1;
            }
        }
        // On the workload's own metadata, not its template's.
        let plain = object_of(&pod_with_annotations(""));
        let mut deployment = wrap(&plain, "Deployment");
        if let Value::Map(map) = &mut deployment {
            let mut fields = (*map.map).clone();
            fields.insert(
                Key::String(Arc::new("metadata".to_string())),
                string_map(&[
                    ("name", text("web-1")),
                    (
                        "annotations",
                        string_map(&[(
                            "podsec.dev/exempt.allowPrivilegeEscalation",
                            text("sidecar injector"),
                        )]),
                    ),
                ]),
            );
            map.map = Arc::new(fields);
        }
        let decision = admit(&exported, &deployment, "Deployment", "fixtures");
        assert_eq!(failing_ids(&decision), ["runAsNonRoot"]);
        cases += 1;
        println!("vap: exemption annotation, {cases} cases as expected");
    });
}

#[test]
fn the_project_files_exemptions_are_compiled_in() {
    with_deep_stack(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("podsec-vap-project-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(".podsec.yaml"),
            "exemptions:\n\
             - {check: runAsNonRoot, namespace: legacy, kind: Deployment, name: \"web-*\", reason: the image runs as root}\n\
             - {check: allowPrivilegeEscalation, container: app, reason: \"per container\"}\n\
             - {check: allowPrivilegeEscalation, reason: expired, expires: 2020-01-01}\n",
        )
        .unwrap();
        // The project file of a directory is the one of the manifests in it.
        std::fs::write(dir.join("app.yaml"), "kind: ConfigMap\nmetadata: {name: c}\n").unwrap();
        let path = dir.to_string_lossy().into_owned();
        let policy = Policy::new(Level::Restricted, Version::Latest);
        let (output, exported) = export(policy, &[&path]);
        assert!(
            output.contains("runAsNonRoot for Deployment \"web-*\" in namespace \"legacy\": compiled in"),
            "{output}"
        );
        assert!(output.contains("names a container, not compiled in"), "{output}");
        assert!(output.contains("expired, not compiled in"), "{output}");
        let pod = object_of(&pod_with_annotations(""));
        let mut cases = 0;
        for (kind, name, namespace, expected) in [
            ("Deployment", "web-1", "legacy", &["allowPrivilegeEscalation"][..]),
            (
                "Deployment",
                "web-1",
                "shop",
                &["allowPrivilegeEscalation", "runAsNonRoot"][..],
            ),
            (
                "StatefulSet",
                "web-1",
                "legacy",
                &["allowPrivilegeEscalation", "runAsNonRoot"][..],
            ),
            (
                "Deployment",
                "api",
                "legacy",
                &["allowPrivilegeEscalation", "runAsNonRoot"][..],
            ),
            (
                "Deployment",
                "web-1/x",
                "legacy",
                &["allowPrivilegeEscalation", "runAsNonRoot"][..],
            ),
        ] {
            let mut object = wrap(&pod, kind);
            if let Value::Map(map) = &mut object {
                let mut fields = (*map.map).clone();
                fields.insert(
                    Key::String(Arc::new("metadata".to_string())),
                    string_map(&[("name", text(name)), ("namespace", text(namespace))]),
                );
                map.map = Arc::new(fields);
            }
            let decision = admit(&exported, &object, kind, namespace);
            assert_eq!(failing_ids(&decision), expected, "{kind} {namespace}/{name}");
            cases += 1;
        }
        // What the Deployment's controllers create: its ReplicaSet, and the ReplicaSet's pods.
        let owned = |kind: &str, name: &str, owner_kind: &str, owner: &str, hash: &str| {
            let mut object = if kind == "Pod" {
                pod.clone()
            } else {
                wrap(&pod, kind)
            };
            if let Value::Map(map) = &mut object {
                let mut fields = (*map.map).clone();
                let owner = string_map(&[("kind", text(owner_kind)), ("name", text(owner))]);
                let labels = string_map(&[("pod-template-hash", text(hash))]);
                fields.insert(
                    Key::String(Arc::new("metadata".to_string())),
                    string_map(&[
                        ("name", text(name)),
                        ("labels", labels),
                        ("ownerReferences", Value::List(Arc::new(vec![owner]))),
                    ]),
                );
                map.map = Arc::new(fields);
            }
            object
        };
        for (object, kind, expected) in [
            (
                owned("ReplicaSet", "web-1-5d4f", "Deployment", "web-1", "5d4f"),
                "ReplicaSet",
                &["allowPrivilegeEscalation"][..],
            ),
            (
                owned("Pod", "web-1-5d4f-x2k", "ReplicaSet", "web-1-5d4f", "5d4f"),
                "Pod",
                &["allowPrivilegeEscalation"][..],
            ),
            (
                owned("Pod", "api-5d4f-x2k", "ReplicaSet", "api-5d4f", "5d4f"),
                "Pod",
                &["allowPrivilegeEscalation", "runAsNonRoot"][..],
            ),
            (
                owned("Pod", "web-1-x2k", "StatefulSet", "web-1", ""),
                "Pod",
                &["allowPrivilegeEscalation", "runAsNonRoot"][..],
            ),
        ] {
            let decision = admit(&exported, &object, kind, "legacy");
            assert_eq!(failing_ids(&decision), expected, "{kind} {object:?}");
            cases += 1;
        }
        std::fs::remove_dir_all(&dir).unwrap();
        println!("vap: project-file exemptions, {cases} cases as expected");
    });
}

/// Pods for what the fixtures do not cover (Windows from v1.25, user namespaces from v1.35, SELinux's
/// `container_engine_t` from v1.31, AppArmor fields, host ports defaulted on the host network, probe hosts,
/// many values to sort), judged by the policy and by podsec at every level and version.
#[test]
fn the_policy_agrees_with_podsec_where_the_fixtures_do_not_reach() {
    with_deep_stack(|| {
        let pods = [
            "spec:\n  os: {name: windows}\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - {name: a, image: x, securityContext: {capabilities: {add: [SYS_ADMIN]}, seccompProfile: {type: Unconfined}}}\n",
            "spec:\n  hostUsers: false\n  containers:\n  - {name: a, image: x, securityContext: {runAsUser: 0, procMount: Unmasked}}\n",
            "spec:\n  securityContext: {seLinuxOptions: {type: container_engine_t}, appArmorProfile: {type: Unconfined}}\n  containers:\n  - {name: a, image: x, securityContext: {seLinuxOptions: {type: spc_t, user: u, role: r}, appArmorProfile: {type: Localhost}}}\n  - {name: b, image: x, securityContext: {appArmorProfile: {}}}\n",
            "spec:\n  hostNetwork: true\n  initContainers:\n  - {name: i, image: x, ports: [{containerPort: 9090}]}\n  containers:\n  - {name: a, image: x, ports: [{containerPort: 8080, hostPort: 0}, {containerPort: 80, hostPort: 10000}]}\n  ephemeralContainers:\n  - {name: e, image: x, ports: [{containerPort: 6060}]}\n",
            "spec:\n  containers:\n  - {name: b, image: x, readinessProbe: {httpGet: {host: z.example, port: 1}}, lifecycle: {preStop: {tcpSocket: {host: a.example, port: 1}}}}\n  - {name: a, image: x, livenessProbe: {tcpSocket: {host: z.example, port: 1}}}\n",
            "spec:\n  securityContext:\n    sysctls: [{name: kernel.msgmax}, {name: net.ipv4.tcp_rmem}, {name: kernel.msgmax}]\n  volumes: [{name: v1, hostPath: {path: /}}, {name: v2, nfs: {server: s, path: /}}, {name: v3}, {name: v4, gitRepo: {repository: r}}]\n  containers:\n  - {name: c, image: x, securityContext: {runAsNonRoot: false, capabilities: {add: [SYS_TIME, NET_RAW, SYS_TIME, AUDIT_WRITE], drop: [all]}}}\n  - {name: d, image: x, securityContext: {privileged: true, allowPrivilegeEscalation: true, capabilities: {add: [CHOWN, \"a\\\"q\"]}}}\n",
            "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: unconfined\n    container.apparmor.security.beta.kubernetes.io/b: \"x\\ty\"\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n    container.seccomp.security.alpha.kubernetes.io/a: \"\"\nspec:\n  containers:\n  - {name: a, image: x}\n  - {name: b, image: x}\n",
        ];
        let mut exported: HashMap<Policy, Exported> = HashMap::new();
        let (mut agreeing, mut total) = (0, 0);
        let mut mismatches = Vec::new();
        for pod in pods {
            let source = format!(
                "apiVersion: v1\nkind: Pod\n{}",
                if pod.starts_with("metadata") {
                    pod.to_string()
                } else {
                    format!("metadata: {{name: p}}\n{pod}")
                }
            );
            let object = object_of(&source);
            for level in [Level::Baseline, Level::Restricted] {
                for minor in 0..=podsec_engine::policy::MAX_MINOR {
                    let policy = Policy::new(level, Version::Minor(u64::from(minor)));
                    let policy_export = exported.entry(policy).or_insert_with(|| export(policy, &[]).1);
                    let ours = podsec_verdict(&source, policy);
                    for kind in std::iter::once("Pod").chain(WORKLOAD_KINDS) {
                        let judged = if kind == "Pod" {
                            object.clone()
                        } else {
                            wrap(&object, kind)
                        };
                        let theirs = admit(policy_export, &judged, kind, "fixtures").failing;
                        // A template's host ports are not defaulted: podsec judges the wrapped text.
                        let expected = if kind == "Pod" {
                            ours.clone()
                        } else {
                            let wrapped_text = common::wrap(&source, kind);
                            podsec_verdict(&wrapped_text, policy)
                        };
                        total += 1;
                        if theirs == expected {
                            agreeing += 1;
                        } else {
                            mismatches.push(format!(
                                "{policy} {kind}:\n  policy {theirs:?}\n  podsec {expected:?}\n{source}"
                            ));
                        }
                    }
                }
            }
        }
        println!("vap: uncovered shapes, {agreeing}/{total} agree with podsec");
        assert!(
            mismatches.is_empty(),
            "{}",
            mismatches.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
        );
    });
}

#[test]
fn without_flags_each_namespace_is_bound_to_the_policy_podsec_check_resolves() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("podsec-vap-workspace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".podsec.yaml"), "level: baseline\n").unwrap();
    std::fs::write(
        dir.join("namespaces.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/audit: restricted\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n    pod-security.kubernetes.io/warn: baseline\n    pod-security.kubernetes.io/warn-version: v1.30\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("admission.yaml"),
        "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\n\
         defaults: {enforce: baseline}\nexemptions: {namespaces: [kube-system], runtimeClasses: [kata]}\n",
    )
    .unwrap();
    let output = podsec(&["export", "vap", &dir.to_string_lossy()]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    let out = stdout(&output);
    // A pod of an exempt runtime class is not matched; another is judged.
    with_deep_stack({
        let out = out.clone();
        move || {
            let exported = compile(&out, "podsec-restricted-latest");
            let pod = |class: &str| {
                object_of(&format!(
                    "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  runtimeClassName: {class}\n  containers: [{{name: a, image: x}}]\n"
                ))
            };
            assert!(!admit(&exported, &pod("kata"), "Pod", "shop").matched);
            assert!(!admit(&exported, &wrap(&pod("kata"), "CronJob"), "CronJob", "shop").matched);
            assert!(admit(&exported, &pod("runc"), "Pod", "shop").matched);
        }
    });
    // Once the label is relaxed for the policy to enforce, `--namespace` keeps the binding to it alone.
    let pinned = stdout(&podsec(&[
        "export",
        "vap",
        "--level",
        "restricted",
        "--namespace",
        "shop",
        &dir.to_string_lossy(),
    ]));
    assert!(
        pinned.contains(
            "restricted:latest enforced in namespace \"shop\" → binding podsec-restricted-latest-shop"
        ),
        "{pinned}"
    );
    assert_eq!(
        pinned.matches("kind: ValidatingAdmissionPolicyBinding").count(),
        1
    );
    assert!(pinned.contains("validationActions: [Deny]\n  matchResources:\n    namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: \"shop\""));
    std::fs::remove_dir_all(&dir).unwrap();
    for expected in [
        "namespace \"shop\" (Namespace in",
        "enforce+warn+audit (Deny, Audit) restricted:latest → binding podsec-restricted-latest-shop",
        "warn (Warn) baseline:v1.30 → binding podsec-baseline-v1.30-legacy",
        "other namespaces: enforce (Deny) baseline:latest from admission configuration",
        "defaults.enforce → binding podsec-baseline-latest-other-namespaces",
        "name: podsec-restricted-latest\n",
        "name: podsec-baseline-v1.30\n",
        "name: podsec-baseline-latest\n",
        "policyName: podsec-restricted-latest\n  validationActions: [Deny, Audit]\n",
        "kubernetes.io/metadata.name: \"shop\"",
        "operator: NotIn\n        values: [\"kube-system\", \"legacy\", \"shop\"]",
        "pods of runtime classes kata are not checked",
    ] {
        assert!(
            out.contains(expected),
            "{expected:?} not in:\n{}",
            out.lines()
                .filter(|l| !l.contains("expression") && l.len() < 300)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    println!("vap: workspace export, 3 namespaces bound as resolved");
}

/// A cost count after cel-go's runtime cost model (what the API server limits): a constant costs 0, a
/// variable or field access 1, a list literal 10 and a map literal 30 plus their elements, a function 1
/// plus its operands (and a tenth of the text or list it builds, and the whole list `in` and `indexOf` walk), a
/// comprehension its range, then its condition and step at every iteration; `&&`, `||` and `?:` only what
/// they evaluate. Sub-expressions are evaluated by cel-rust to know what runs.
fn cost(expression: &cel::IdedExpr, context: &Context<'_>) -> u64 {
    use cel::common::ast::{EntryExpr, Expr};
    let value = |e: &cel::IdedExpr| context.resolve(e).unwrap_or(Value::Null);
    let tenth = |v: &Value| match v {
        Value::String(s) => (s.len() as u64).div_ceil(10),
        Value::List(l) => (l.len() as u64).div_ceil(10),
        _ => 0,
    };
    match &expression.expr {
        Expr::Literal(_) | Expr::Unspecified => 0,
        Expr::Ident(_) => 1,
        Expr::Select(select) => 1 + cost(&select.operand, context),
        Expr::List(list) => 10 + list.elements.iter().map(|e| cost(e, context)).sum::<u64>(),
        Expr::Map(map) => {
            30 + map
                .entries
                .iter()
                .map(|entry| match &entry.expr {
                    EntryExpr::MapEntry(e) => cost(&e.key, context) + cost(&e.value, context),
                    EntryExpr::StructField(f) => cost(&f.value, context),
                })
                .sum::<u64>()
        }
        Expr::Struct(_) => 40,
        Expr::Call(call) => {
            let args = &call.args;
            match (call.func_name.as_str(), args.as_slice()) {
                ("_&&_", [left, right]) => {
                    cost(left, context)
                        + if value(left) == Value::Bool(false) {
                            0
                        } else {
                            cost(right, context)
                        }
                }
                ("_||_", [left, right]) => {
                    cost(left, context)
                        + if value(left) == Value::Bool(true) {
                            0
                        } else {
                            cost(right, context)
                        }
                }
                ("_?_:_", [condition, yes, no]) => {
                    cost(condition, context)
                        + if value(condition) == Value::Bool(true) {
                            cost(yes, context)
                        } else {
                            cost(no, context)
                        }
                }
                (name, _) => {
                    let operands = call.target.iter().map(|t| cost(t, context)).sum::<u64>()
                        + args.iter().map(|a| cost(a, context)).sum::<u64>();
                    let size = match name {
                        "_+_" | "join" | "split" => tenth(&value(expression)),
                        // Walks a whole list (counted in full: more than cel-go and Kubernetes charge).
                        "@in" => args.get(1).map_or(0, |list| match value(list) {
                            Value::List(l) => l.len() as u64,
                            _ => 1,
                        }),
                        "indexOf" => call.target.as_deref().map_or(0, |list| match value(list) {
                            Value::List(l) => l.len() as u64,
                            _ => 1,
                        }),
                        _ => 0,
                    };
                    1 + operands + size
                }
            }
        }
        Expr::Comprehension(comprehension) => {
            let mut total =
                cost(&comprehension.iter_range, context) + cost(&comprehension.accu_init, context);
            let items: Vec<Value> = match value(&comprehension.iter_range) {
                Value::List(l) => l.iter().cloned().collect(),
                Value::Map(m) => m.map.keys().map(|k| Value::from(k.clone())).collect(),
                _ => Vec::new(),
            };
            let mut accumulator = value(&comprehension.accu_init);
            for item in items {
                let mut inner = context.new_inner_scope();
                inner.add_variable_from_value(comprehension.iter_var.as_str(), item);
                inner.add_variable_from_value(comprehension.accu_var.as_str(), accumulator.clone());
                total += cost(&comprehension.loop_cond, &inner);
                if inner
                    .resolve(&comprehension.loop_cond)
                    .unwrap_or(Value::Bool(false))
                    != Value::Bool(true)
                {
                    break;
                }
                total += cost(&comprehension.loop_step, &inner);
                accumulator = inner.resolve(&comprehension.loop_step).unwrap_or(Value::Null);
            }
            let mut inner = context.new_inner_scope();
            inner.add_variable_from_value(comprehension.accu_var.as_str(), accumulator);
            total + cost(&comprehension.result, &inner)
        }
    }
}

/// The cost of admitting `pod`: every variable once and each validation (with the largest of them), and
/// each failing validation's message (with the largest of them).
fn admission_cost(exported: &Exported, pod: &Value) -> [u64; 4] {
    let mut context = admission_context(pod, "Pod", "fixtures");
    let mut variables: Vec<(&str, Value)> = Vec::new();
    let [
        mut validations,
        mut largest_validation,
        mut messages,
        mut largest_message,
    ] = [0; 4];
    for (name, program) in &exported.variables {
        context.add_variable_from_value("variables", string_map(&variables));
        let spent = cost(program.expression(), &context);
        validations += spent;
        largest_validation = largest_validation.max(spent);
        variables.push((name, program.execute(&context).unwrap()));
    }
    context.add_variable_from_value("variables", string_map(&variables));
    for (_, expression, message) in &exported.validations {
        let spent = cost(expression.expression(), &context);
        validations += spent;
        largest_validation = largest_validation.max(spent);
        if expression.execute(&context).unwrap() == Value::Bool(false) {
            let spent = cost(message.expression(), &context);
            messages += spent;
            largest_message = largest_message.max(spent);
        }
    }
    [validations, largest_validation, messages, largest_message]
}

/// The API server's limits: 1,000,000 per expression (`PerCallLimit`), 10,000,000 per policy evaluation
/// (`RuntimeCELCostBudget`). The validations are linear in the containers; a message that sorts values
/// of every container (de-duplicating them by `indexOf`) is quadratic, and past its limit the API server
/// denies with the static `message` instead.
#[test]
fn a_pod_of_hundreds_of_containers_stays_within_the_api_servers_cost_budget() {
    with_deep_stack(|| {
        let (_, exported) = export(Policy::new(Level::Restricted, Version::Latest), &[]);
        let containers = |count: usize, security: &str, prefix: &str| {
            (0..count)
                .map(|i| format!("  - {{name: {prefix}{i}, image: x, ports: [{{containerPort: 80}}], securityContext: {security}}}\n"))
                .collect::<String>()
        };
        let compliant = "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";
        let hostile = "{privileged: true, runAsUser: 0, runAsNonRoot: false, procMount: Unmasked, capabilities: {add: [SYS_ADMIN, NET_RAW]}, seccompProfile: {type: Unconfined}, seLinuxOptions: {type: spc_t}, appArmorProfile: {type: Unconfined}}";
        for (count, security, what) in [
            (250, compliant, "compliant"),
            (250, hostile, "every container failing every container check"),
            (100, hostile, "every container failing every container check"),
        ] {
            let pod = format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: big}}\nspec:\n  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n  initContainers:\n{}  containers:\n{}",
                containers(count, security, "i"),
                containers(count, security, "c")
            );
            let [validations, largest_validation, messages, largest_message] =
                admission_cost(&exported, &object_of(&pod));
            println!(
                "vap: cost, {} containers ({what}): validations {validations} (largest {largest_validation}), messages {messages} (largest {largest_message})",
                2 * count
            );
            assert!(largest_validation <= 1_000_000 && validations <= 10_000_000);
            if count <= 100 {
                assert!(largest_message <= 1_000_000 && validations + messages <= 10_000_000);
            }
        }
    });
}

#[test]
fn a_pods_update_is_judged_only_when_psa_would_judge_it() {
    with_deep_stack(|| {
        let (_, exported) = export(Policy::new(Level::Restricted, Version::Latest), &[]);
        let pod = |labels: &str, image: &str, extra: &str| {
            object_of(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, labels: {{{labels}}}}}\nspec:\n  containers: [{{name: a, image: {image}}}{extra}]\n"
            ))
        };
        let old = pod("", "x:1", "");
        let matched = |new: &Value, kind: &str, old: &Value| {
            let context = request_context(new, kind, "fixtures", Some(old));
            exported
                .match_conditions
                .iter()
                .all(|condition| condition.execute(&context).unwrap() == Value::Bool(true))
        };
        // A label changed: PSA lets the (non-compliant) pod be updated without evaluating it.
        assert!(!matched(&pod("a: b", "x:1", ""), "Pod", &old));
        // An image changed, a container added: evaluated.
        assert!(matched(&pod("", "x:2", ""), "Pod", &old));
        assert!(matched(&pod("", "x:1", ", {name: b, image: y}"), "Pod", &old));
        let mut with_ephemeral = pod("", "x:1", "");
        if let Value::Map(map) = &mut with_ephemeral {
            let mut fields = (*map.map).clone();
            let spec = object_of(
                "containers: [{name: a, image: x:1}]\nephemeralContainers: [{name: debug, image: busybox}]\n",
            );
            fields.insert(Key::String(Arc::new("spec".to_string())), spec);
            map.map = Arc::new(fields);
        }
        assert!(matched(&with_ephemeral, "Pod", &old));
        // A workload's every update is evaluated.
        assert!(matched(
            &wrap(&pod("a: b", "x:1", ""), "Deployment"),
            "Deployment",
            &wrap(&old, "Deployment")
        ));
        println!("vap: Pod updates, 5 cases as PSA");
    });
}
