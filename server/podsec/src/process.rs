//! Running the user's tools (Helm, Kustomize): found on `PATH`, run with no input, their output read as it
//! comes and bounded, under a time limit, and stopped as soon as the caller no longer wants the result.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Where `name` is on `PATH`, if it is.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// What a tool that ran to its end printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// The limits a tool runs under.
pub struct Bounds<'a> {
    /// The longest it may run.
    pub timeout: Duration,
    /// The most bytes it may print on each of its outputs.
    pub output: u64,
    /// Asked while it runs: when it answers `true`, the tool is stopped (a newer result is wanted).
    pub cancelled: &'a dyn Fn() -> bool,
}

/// Runs `program` with `arguments` within `bounds`: what it printed and how it ended, or why it did not
/// finish (it could not start, it ran too long, printed too much, or was no longer wanted).
pub fn run(program: &Path, arguments: &[String], bounds: &Bounds<'_>) -> Result<Finished, String> {
    let name = program.display();
    if (bounds.cancelled)() {
        return Err(format!("{name} was not run: a newer result is wanted"));
    }
    let mut child = Command::new(program)
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    // Both outputs are drained while it runs (a full pipe would stop it), each up to the limit.
    let overflow = Arc::new(AtomicBool::new(false));
    let limit = bounds.output;
    let reader = |stream: Option<Box<dyn Read + Send>>| {
        let overflow = Arc::clone(&overflow);
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(stream) = stream {
                let _ = stream.take(limit.saturating_add(1)).read_to_end(&mut bytes);
            }
            if bytes.len() as u64 > limit {
                overflow.store(true, Ordering::Relaxed);
                bytes = Vec::new();
            }
            bytes
        })
    };
    let stdout = reader(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let stderr = reader(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let started = Instant::now();
    let stopped = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if overflow.load(Ordering::Relaxed) => {
                break Err(format!(
                    "{name} printed more than {limit} bytes (--max-file-size)"
                ));
            }
            Ok(None) if (bounds.cancelled)() => {
                break Err(format!("{name} was stopped: a newer result is wanted"));
            }
            Ok(None) if started.elapsed() >= bounds.timeout => {
                break Err(format!("{name} did not finish in {} s", bounds.timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => break Err(format!("{name}: {e}")),
        }
    };
    if stopped.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let status = stopped?;
    if overflow.load(Ordering::Relaxed) {
        return Err(format!(
            "{name} printed more than {limit} bytes (--max-file-size)"
        ));
    }
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    fn bounds(output: u64, cancelled: &dyn Fn() -> bool) -> Bounds<'_> {
        Bounds {
            timeout: Duration::from_secs(20),
            output,
            cancelled,
        }
    }

    #[test]
    fn a_tool_runs_to_its_end_or_is_stopped_at_its_bounds() {
        let sh = Path::new("/bin/sh");
        let script = |s: &str| vec!["-c".to_string(), s.to_string()];
        let done = run(
            sh,
            &script("printf out; printf err >&2; exit 3"),
            &bounds(100, &|| false),
        )
        .unwrap();
        assert_eq!(
            (done.stdout.as_slice(), done.stderr.as_slice()),
            (&b"out"[..], &b"err"[..])
        );
        assert_eq!(done.status.code(), Some(3));
        let endless = run(sh, &script("exec yes"), &bounds(1000, &|| false)).unwrap_err();
        assert!(endless.contains("printed more than 1000 bytes"), "{endless}");
        let started = Instant::now();
        let unwanted = run(
            sh,
            &script("exec sleep 30"),
            &bounds(1000, &|| started.elapsed().as_millis() > 100),
        );
        assert!(unwanted.unwrap_err().contains("was stopped"));
        assert!(started.elapsed() < Duration::from_secs(10));
        let slow = Bounds {
            timeout: Duration::from_millis(100),
            output: 1000,
            cancelled: &|| false,
        };
        assert!(
            run(sh, &script("exec sleep 30"), &slow)
                .unwrap_err()
                .contains("did not finish")
        );
        assert!(run(Path::new("/nonexistent/tool"), &[], &bounds(10, &|| false)).is_err());
    }
}
