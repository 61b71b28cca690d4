//! `cargo xtask generate`: writes the generated files (the lists of checks, the man pages). `cargo xtask check` only reports
//! stale ones (exit 1).

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf();
    let files = match xtask::generated(&root) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("xtask: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = false;
    for (path, text) in files {
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        stale = true;
        match task.as_str() {
            "generate" => {
                let directory = path.parent().unwrap_or(std::path::Path::new("."));
                if let Err(e) = std::fs::create_dir_all(directory).and_then(|()| std::fs::write(&path, text))
                {
                    eprintln!("xtask: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("wrote {}", path.display());
            }
            "check" => println!("stale: {} (run `cargo xtask generate`)", path.display()),
            _ => {
                eprintln!("usage: cargo xtask generate | check");
                return ExitCode::from(2);
            }
        }
    }
    if stale && task == "check" {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
