//! Test hook for the kill tests (G5): `PULLPROD_TEST_KILL_AT=<point>` makes the process
//! SIGKILL itself when it reaches that named point. Unset, it costs one env lookup per call.

/// Every point a pull can be killed at, in the order a pull reaches them.
pub const POINTS: &[&str] = &[
    "after-create",
    "pre-data-running",
    "after-pre-data",
    "data-first-block",
    "data-table-done",
    "after-data",
    "post-data-running",
    "after-post-data",
    "before-swap",
    "swap-half-renamed",
    "after-swap-commit",
];

/// Die here, as a `kill -9` would, if the test asked for it.
pub fn point(name: &str) {
    debug_assert!(POINTS.contains(&name), "unknown fault point `{name}`");
    if std::env::var_os("PULLPROD_TEST_KILL_AT").is_some_and(|at| at == name) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        // The signal is on its way; never go on.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// Points where `swap` can act, in the order a pull reaches them.
pub const SWAP_POINTS: &[&str] = &["after-gate"];

/// Test hook for the review gate's tests: `PULLPROD_TEST_SWAP_AT=<point>` renames the file
/// `PULLPROD_TEST_SWAP_FROM` over `PULLPROD_TEST_SWAP_TO` when the pull reaches that point, as an
/// attacker racing the gate would. Unset, it costs one env lookup per call.
pub fn swap(name: &str) {
    debug_assert!(SWAP_POINTS.contains(&name), "unknown swap point `{name}`");
    if std::env::var_os("PULLPROD_TEST_SWAP_AT").is_some_and(|at| at == name)
        && let (Some(from), Some(to)) = (
            std::env::var_os("PULLPROD_TEST_SWAP_FROM"),
            std::env::var_os("PULLPROD_TEST_SWAP_TO"),
        )
    {
        let _ = std::fs::rename(from, to);
    }
}
