//! Standard output for every command except `lsp`: buffered, and a reader that stops reading
//! (`podsec psp | head -1`) ends the output quietly. `print!` would panic on the closed pipe instead.

use std::io::{self, BufWriter, ErrorKind, StdoutLock, Write};

/// Buffered standard output that swallows everything after a broken pipe. Other write errors (a full
/// disk) are returned.
pub struct Stdout {
    writer: BufWriter<StdoutLock<'static>>,
    closed: bool,
}

/// Locks standard output for the whole command.
pub fn stdout() -> Stdout {
    Stdout {
        writer: BufWriter::new(io::stdout().lock()),
        closed: false,
    }
}

impl Stdout {
    /// Whether the reader has gone away: the rest of the output is dropped.
    fn absorb<T>(&mut self, result: io::Result<T>, nothing: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(nothing)
            }
            other => other,
        }
    }

    /// Flushes what is buffered: the command's last step. A failure other than a closed pipe is an error
    /// message for the user.
    pub fn finish(mut self) -> Result<(), String> {
        self.flush().map_err(write_error)
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.writer.write(buf);
        self.absorb(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.writer.flush();
        self.absorb(result, ())
    }
}

/// The message for a failed write to standard output.
pub fn write_error(error: io::Error) -> String {
    format!("cannot write the output: {error}")
}

/// Writes a line to standard error; a closed standard error is ignored, as there is nowhere left to say it.
#[macro_export]
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
