//! Architecture invariants that the compiler does not enforce, checked on the source tree.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::repo_root;

/// The engine knows nothing of LSP, async runtimes or output formats: its only dependencies are the
/// YAML parser and memchr (byte search, no I/O), and its source names none of them.
#[test]
fn the_engine_depends_on_nothing_but_the_yaml_parser() {
    let manifest = std::fs::read_to_string(repo_root().join("server/engine/Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    let names: Vec<&str> = dependencies
        .lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    // The YAML reader is the engine's own (`yaml/scan.rs`, `yaml/events.rs`).
    assert_eq!(names, ["memchr"]);
    let forbidden = [
        "tokio",
        "tower_lsp",
        "ls_types",
        "lsp_types",
        "serde_json",
        "std::fs",
        "std::io::stdin",
    ];
    let sources = walk(&repo_root().join("server/engine/src"));
    for entry in sources {
        let source = std::fs::read_to_string(&entry).unwrap();
        for word in forbidden {
            assert!(!source.contains(word), "{} mentions {word}", entry.display());
        }
    }
}

/// Adding a check touches its own file and the one list: every file in `checks/` is registered.
#[test]
fn every_check_file_is_registered_once() {
    let files: Vec<_> = walk(&repo_root().join("server/engine/src/checks"))
        .into_iter()
        .filter(|p| p.file_name().unwrap() != "mod.rs")
        .collect();
    assert_eq!(files.len(), podsec_engine::CHECKS.len());
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let id = source.split("id: \"").nth(1).unwrap().split('"').next().unwrap();
        assert!(
            podsec_engine::check_by_id(id).is_some(),
            "{} declares unregistered {id}",
            file.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    walk_files(dir, &["rs"])
}

/// Every file below `dir` whose extension is one of `extensions`, sorted (installed packages left out).
fn walk_files(dir: &std::path::Path, extensions: &[&str]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "node_modules") {
                found.extend(walk_files(&path, extensions));
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The published JSON Schema of `.podsec.yaml` lists exactly the project keys and the check IDs.
#[test]
fn the_project_file_schema_matches_the_engine() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("editors/podsec.schema.json")).unwrap(),
    )
    .unwrap();
    let mut keys: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut engine: Vec<&str> = podsec_engine::policy::PROJECT_KEYS.to_vec();
    engine.sort_unstable();
    assert_eq!(keys, engine);
    let mut checks: Vec<&str> = schema["definitions"]["check"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    checks.sort_unstable();
    let mut ids: Vec<&str> = podsec_engine::CHECKS.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    assert_eq!(checks, ids);
}

/// A module's code: no tests, no comments (docs may point anywhere).
fn code_only(source: &str) -> String {
    source
        .split("#[cfg(test)]")
        .next()
        .unwrap()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The engine's layers, lowest first. A module may use only modules of lower layers (read from the
/// `crate::…` paths of its source, tests aside), so there is no import cycle and each layer can be
/// understood without those above it. Keep ARCHITECTURE.md's layering section in step.
const LAYERS: &[&[&str]] = &[
    &["yaml"],
    &["text", "helm", "pod", "comments"],
    &["workload", "patch"],
    &["validation"],
    &["policy"],
    &["navigate"],
    &["fix", "cel"],
    &["checks"],
    &["psp", "sources"],
    &["analysis"],
    &[
        "advice",
        "fix_all",
        "explain",
        "vap",
        "complete",
        "render",
        "kustomize",
    ],
];

#[test]
fn engine_modules_use_only_lower_layers() {
    let root = repo_root().join("server/engine/src");
    let layer_of = |module: &str| LAYERS.iter().position(|layer| layer.contains(&module));
    let mut seen = Vec::new();
    for file in walk(&root) {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        // The root only re-exports; a `tests.rs` is a test module.
        if relative == "lib.rs" || relative.ends_with("tests.rs") {
            continue;
        }
        let module = relative.split(['/', '.']).next().unwrap().to_string();
        let own = layer_of(&module).unwrap_or_else(|| panic!("{relative}: module {module} is in no layer"));
        seen.push(module.clone());
        let source = std::fs::read_to_string(&file).unwrap();
        let code = code_only(&source);
        for (at, _) in code.match_indices("crate::") {
            let used: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if used == module {
                continue;
            }
            let theirs = layer_of(&used).unwrap_or_else(|| {
                panic!(
                    "{relative} uses crate::{used}: name a module (the root re-exports are for the shells)"
                )
            });
            assert!(
                theirs < own,
                "{relative} (layer {own}: {module}) uses crate::{used} (layer {theirs}): imports must point down"
            );
        }
    }
    for layer in LAYERS {
        for module in *layer {
            assert!(
                seen.iter().any(|m| m == module),
                "layer module {module} has no source file"
            );
        }
    }
}

/// The modules of the shell crate both shells use, standing below both: the language server (`lsp/`)
/// takes nothing from the command line's modules but these. Keep ARCHITECTURE.md's layering section in step.
const SHARED_BY_BOTH_SHELLS: &[&str] = &["charts", "parallel", "project", "read"];

/// The shell crate's top-level modules (`lsp/` and `output/` one each) and the modules each one's code
/// names through `crate::…` (tests and comments aside; the root's macros and functions are no module).
fn shell_module_uses() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let root = repo_root().join("server/podsec/src");
    let module_of = |relative: &str| relative.split(['/', '.']).next().unwrap().to_string();
    let modules: std::collections::BTreeSet<String> = walk(&root)
        .iter()
        .map(|file| module_of(&file.strip_prefix(&root).unwrap().to_string_lossy()))
        .filter(|module| module != "lib" && module != "main")
        .collect();
    let mut uses = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for file in walk(&root) {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let module = module_of(&relative);
        if !modules.contains(&module) {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        let code = code_only(&source);
        let used = uses.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && modules.contains(&name) {
                used.insert(name);
            }
        }
    }
    uses
}

/// Two shells, one engine: the shell crate's modules import one another without a cycle, and the
/// language server uses only what stands below both shells.
#[test]
fn shell_modules_have_no_import_cycle_and_the_server_takes_nothing_from_the_cli() {
    let uses = shell_module_uses();
    assert!(uses.contains_key("check") && uses.contains_key("lsp"), "{uses:?}");
    for used in &uses["lsp"] {
        assert!(
            SHARED_BY_BOTH_SHELLS.contains(&used.as_str()),
            "lsp/ uses crate::{used}, which is the command line's: move what both shells need below both"
        );
    }
    // Depth-first search for a cycle: the path from a module back to itself.
    fn cycle_from(
        module: &str,
        uses: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            return Some(path[at..].to_vec());
        }
        path.push(module.to_string());
        for next in uses.get(module).into_iter().flatten() {
            if let Some(cycle) = cycle_from(next, uses, path) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    for module in uses.keys() {
        if let Some(cycle) = cycle_from(module, &uses, &mut Vec::new()) {
            panic!("import cycle among the shell's modules: {}", cycle.join(" -> "));
        }
    }
}

/// Files that list the checks are written by `cargo xtask generate` from `CHECKS`, never by hand.
#[test]
fn generated_files_are_current() {
    for (path, text) in xtask::generated(&repo_root()).unwrap() {
        let current = std::fs::read_to_string(&path).unwrap();
        assert!(
            current == text,
            "{} is stale: run `cargo xtask generate`",
            path.display()
        );
    }
}

/// Every problem code the engine gives has its own SARIF rule (with help), so no result falls back to
/// the catch-all rule `other`.
#[test]
fn every_problem_code_has_a_sarif_rule() {
    let sarif = std::fs::read_to_string(repo_root().join("server/podsec/src/codes.rs")).unwrap();
    // The document errors are chosen in a match in analysis.rs, and the API server's refusals are the
    // constant `INVALID_OBJECT`, not written as `code: "…"`.
    let mut codes = vec![
        "syntax-error".to_string(),
        "limit-exceeded".to_string(),
        "invalid-object".to_string(),
    ];
    for entry in walk(&repo_root().join("server/engine/src")) {
        let source = std::fs::read_to_string(&entry).unwrap();
        for piece in source.split("code: \"").skip(1) {
            let code = piece.split('"').next().unwrap();
            if !code.is_empty() && !codes.contains(&code.to_string()) {
                codes.push(code.to_string());
            }
        }
    }
    assert!(codes.len() >= 12, "{codes:?}");
    for code in codes {
        assert!(
            sarif.contains(&format!("id: \"{code}\"")),
            "no SARIF rule for {code}"
        );
    }
}

/// Every check's link (diagnostics' `codeDescription`, SARIF's `helpUri`) lands on its own section of
/// the check reference, as GitHub anchors a heading: its ID in lower case, unique.
#[test]
fn every_check_links_to_its_own_section_of_the_reference() {
    let reference = std::fs::read_to_string(repo_root().join("docs/checks.md")).unwrap();
    let mut anchors = Vec::new();
    for check in podsec_engine::checks::CHECKS {
        let uri = check.help_uri();
        let (page, anchor) = uri.split_once('#').unwrap();
        assert_eq!(page, podsec_engine::checks::CHECK_REFERENCE);
        assert!(
            reference.contains(&format!("\n## {}\n", check.id)),
            "no section for {}",
            check.id
        );
        let github_anchor: String = check
            .id
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
            .collect();
        assert_eq!(anchor, github_anchor, "{}", check.id);
        assert!(!anchors.contains(&github_anchor), "{} twice", check.id);
        anchors.push(github_anchor);
    }
}

#[test]
fn scripts_ask_cargo_where_its_binaries_are() {
    // CARGO_TARGET_DIR moves cargo's builds: a script that names target/debug or target/release runs a stale
    // binary, or none. Scripts ask `cargo metadata --format-version 1 --no-deps` for `target_directory`.
    let root = repo_root();
    let script_extensions = ["sh", "py", "mjs", "js", "lua"];
    let mut offenders = Vec::new();
    let mut scripts = 0;
    for dir in ["tests", "benches"] {
        for path in walk_files(&root.join(dir), &script_extensions) {
            scripts += 1;
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (number, line) in text.lines().enumerate() {
                if line.contains("target/debug") || line.contains("target/release") {
                    offenders.push(format!("{}:{}: {line}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(scripts > 10, "found only {scripts} scripts");
    assert!(
        offenders.is_empty(),
        "scripts that name cargo's target directory:\n{}",
        offenders.join("\n")
    );
}
