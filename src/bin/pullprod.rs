//! The same entry point as `cargo xtask`, as a binary the integration tests can run.

fn main() -> std::process::ExitCode {
    pullprod::cli::run(std::env::args_os().skip(1))
}
