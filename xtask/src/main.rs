//! The project's `cargo xtask`: every command is pullprod's. Copy this file into your own project.

fn main() -> std::process::ExitCode {
    pullprod::cli::run(std::env::args_os().skip(1))
}
