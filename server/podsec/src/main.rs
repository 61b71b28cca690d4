//! The `podsec` binary: everything is in the library.

fn main() -> std::process::ExitCode {
    podsec::main()
}
